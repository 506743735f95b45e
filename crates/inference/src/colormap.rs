//! The heatmap colours: matplotlib's `inferno` (perceptually uniform, readable in gray print,
//! dark at 0 so weak evidence does not draw the eye), linearly interpolated between 11 samples.

/// `inferno` at 0.0, 0.1, ..., 1.0 (matplotlib's table, rounded to 8 bits).
const INFERNO: [[u8; 3]; 11] = [
    [0, 0, 4],
    [22, 11, 57],
    [66, 10, 104],
    [106, 23, 110],
    [147, 38, 103],
    [188, 55, 84],
    [221, 81, 58],
    [243, 120, 25],
    [252, 165, 10],
    [246, 215, 70],
    [252, 255, 164],
];

/// The colour of `v` in [0, 1] (clamped; NaN maps to 0).
pub fn inferno(v: f32) -> [u8; 3] {
    let v = if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) };
    let x = v * (INFERNO.len() - 1) as f32;
    let lo = (x.floor() as usize).min(INFERNO.len() - 2);
    let f = x - lo as f32;
    let (a, b) = (INFERNO[lo], INFERNO[lo + 1]);
    std::array::from_fn(|c| (f32::from(a[c]) * (1.0 - f) + f32::from(b[c]) * f).round() as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_are_the_table_ends_and_brightness_rises() {
        assert_eq!(inferno(0.0), INFERNO[0]);
        assert_eq!(inferno(1.0), INFERNO[10]);
        assert_eq!(inferno(-3.0), INFERNO[0]);
        assert_eq!(inferno(f32::NAN), INFERNO[0]);
        let luma = |c: [u8; 3]| {
            0.299 * f32::from(c[0]) + 0.587 * f32::from(c[1]) + 0.114 * f32::from(c[2])
        };
        let mut last = -1.0;
        for i in 0..=100 {
            let l = luma(inferno(i as f32 / 100.0));
            assert!(l >= last - 0.5, "luma falls at {i}");
            last = l;
        }
    }
}
