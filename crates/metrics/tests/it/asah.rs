//! The `aSAH` data set of the pROC R package (Robin et al. 2011, BMC Bioinformatics 12:77;
//! data from Turck et al. 2010, Intensive Care Medicine 36(1):107-115): 113 patients with an
//! aneurysmal subarachnoid haemorrhage, 41 with a poor outcome (the positives) and 72 with a good
//! one. Read from `data/aSAH.RData` of github.com/xrobin/pROC (commit ee2877e) with a small
//! reader of R's serialization format; the scores are the columns `wfns` (an ordered factor
//! 1..5, as its level numbers, which is what pROC ranks), `s100b` and `ndka`.

/// `outcome == "Poor"`, patient by patient.
pub const POOR: [bool; 113] = [
    false, false, false, false, true, true, false, true, false, false, true, false, true, true,
    false, false, true, false, true, true, true, false, true, false, false, false, false, false,
    false, false, false, false, true, false, false, true, true, false, true, true, false, false,
    false, false, false, false, false, false, false, true, true, false, false, false, true, false,
    false, false, true, false, true, false, false, true, true, true, false, true, true, false,
    true, true, true, true, false, false, false, true, true, false, true, false, false, false,
    false, false, false, true, false, false, false, false, false, false, false, false, false,
    false, false, false, true, true, true, true, true, true, false, false, false, true, false,
    false, false,
];

/// World Federation of Neurological Surgeons grade, 1 to 5.
pub const WFNS: [f64; 113] = [
    1.0, 1.0, 1.0, 1.0, 3.0, 2.0, 5.0, 4.0, 1.0, 2.0, 5.0, 2.0, 5.0, 5.0, 1.0, 2.0, 5.0, 2.0, 2.0,
    5.0, 2.0, 1.0, 1.0, 1.0, 1.0, 2.0, 1.0, 2.0, 1.0, 1.0, 3.0, 4.0, 2.0, 1.0, 4.0, 5.0, 4.0, 1.0,
    4.0, 2.0, 5.0, 5.0, 1.0, 1.0, 2.0, 4.0, 1.0, 1.0, 2.0, 5.0, 5.0, 2.0, 1.0, 2.0, 5.0, 1.0, 2.0,
    2.0, 2.0, 1.0, 5.0, 1.0, 1.0, 2.0, 5.0, 2.0, 1.0, 4.0, 5.0, 2.0, 4.0, 4.0, 1.0, 4.0, 1.0, 2.0,
    1.0, 4.0, 2.0, 1.0, 2.0, 3.0, 2.0, 4.0, 2.0, 1.0, 4.0, 5.0, 1.0, 1.0, 5.0, 4.0, 2.0, 2.0, 1.0,
    1.0, 1.0, 3.0, 1.0, 2.0, 5.0, 2.0, 2.0, 5.0, 5.0, 5.0, 2.0, 4.0, 4.0, 5.0, 1.0, 1.0, 1.0,
];

/// S100 calcium-binding protein B (ug/l).
pub const S100B: [f64; 113] = [
    0.13, 0.14, 0.1, 0.04, 0.13, 0.1, 0.47, 0.16, 0.18, 0.1, 0.12, 0.1, 0.44, 0.71, 0.04, 0.08,
    0.49, 0.04, 0.07, 0.33, 0.09, 0.09, 0.07, 0.11, 0.07, 0.17, 0.07, 0.11, 0.13, 0.19, 0.05, 0.16,
    0.41, 0.14, 0.34, 0.35, 0.48, 0.09, 0.96, 0.25, 0.5, 0.46, 0.16, 0.07, 0.43, 0.45, 0.11, 0.08,
    0.09, 0.86, 0.52, 0.08, 0.06, 0.13, 2.07, 0.1, 0.14, 0.15, 0.07, 0.06, 0.77, 0.05, 0.09, 0.3,
    0.03, 0.09, 0.04, 0.23, 0.7, 0.09, 0.27, 0.71, 0.08, 0.26, 0.08, 0.16, 0.09, 0.13, 0.1, 0.08,
    0.11, 0.33, 0.11, 0.28, 0.07, 0.1, 0.32, 0.22, 0.07, 0.05, 0.24, 0.38, 0.1, 0.15, 0.08, 0.14,
    0.1, 0.07, 0.04, 0.19, 0.56, 0.14, 0.58, 0.32, 0.82, 0.74, 0.15, 0.47, 0.17, 0.44, 0.15, 0.5,
    0.48,
];

/// Nucleoside diphosphate kinase A (ng/ml).
pub const NDKA: [f64; 113] = [
    3.01, 8.54, 8.09, 10.42, 17.4, 12.75, 6.0, 13.2, 15.54, 6.01, 15.96, 17.86, 5.18, 8.9, 13.41,
    20.75, 11.6, 16.11, 32.37, 54.82, 32.41, 49.94, 40.34, 9.47, 6.29, 12.53, 6.54, 6.3, 80.3,
    12.8, 9.8, 9.81, 9.85, 18.21, 5.03, 14.04, 21.93, 8.02, 7.42, 8.38, 6.59, 9.63, 13.12, 7.96,
    14.34, 41.43, 7.63, 7.06, 12.59, 13.56, 3.87, 9.44, 7.66, 12.98, 419.19, 27.19, 22.27, 9.95,
    21.22, 11.73, 10.4, 58.83, 6.39, 11.09, 12.22, 13.67, 17.21, 22.63, 12.9, 9.7, 21.57, 8.23,
    72.57, 15.54, 10.51, 10.6, 14.57, 5.19, 9.63, 4.61, 21.48, 17.3, 12.71, 9.44, 11.07, 19.46,
    10.83, 5.37, 11.97, 7.75, 9.83, 10.55, 28.49, 8.53, 12.57, 12.9, 46.83, 11.68, 12.67, 9.01,
    9.57, 34.06, 11.72, 14.26, 47.61, 11.67, 24.58, 10.33, 13.87, 15.89, 22.43, 6.79, 13.45,
];
