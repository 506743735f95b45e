//! A lossless JPEG encoder (ITU-T T.81 Annex H, process 14, selection value 1): the codec of
//! DICOM's JPEG Lossless transfer syntax (1.2.840.10008.1.2.4.70), which dicom-rs decodes
//! but cannot write. It exists so that tests and benchmarks can make JPEG-lossless radiographs
//! without a network download; the decoder they are checked with (jpeg-decoder, through
//! dicom-pixeldata) is independent of it.
//!
//! One greyscale component, predictor 1 (the sample to the left; the first column predicts
//! from above and the first sample from `2^(P-1)`), point transform 0, and one Huffman table
//! of difference categories built from the image's own histogram (libjpeg's
//! `jpeg_gen_optimal_table`, limited to 16-bit codes).

/// Encodes `samples` (row-major, `width * height`, each below `2^precision`) as a lossless
/// JPEG stream of `precision` bits (2..=16).
pub fn encode(samples: &[u16], width: u16, height: u16, precision: u8) -> Vec<u8> {
    let diffs = differences(samples, usize::from(width), precision);
    let mut freq = [0u64; 17];
    for &d in &diffs {
        freq[category(d) as usize] += 1;
    }
    let (bits, values) = optimal_table(&freq);
    let codes = canonical_codes(&bits, &values);

    let mut out = vec![0xFF, 0xD8];
    // SOF3: lossless, Huffman, one component with 1x1 sampling.
    out.extend([0xFF, 0xC3, 0, 11, precision]);
    out.extend(height.to_be_bytes());
    out.extend(width.to_be_bytes());
    out.extend([1, 1, 0x11, 0]);
    // DHT: table class 0, id 0.
    let dht_len = 2 + 1 + 16 + values.len();
    out.extend([0xFF, 0xC4]);
    out.extend((dht_len as u16).to_be_bytes());
    out.push(0x00);
    out.extend(&bits[1..=16]);
    out.extend(&values);
    // SOS: one component with table 0, Ss = predictor 1, Se = 0, Ah/Al = 0.
    out.extend([0xFF, 0xDA, 0, 8, 1, 1, 0x00, 1, 0, 0]);
    let mut w = BitWriter { out, acc: 0, n: 0 };
    for &d in &diffs {
        let ssss = category(d);
        let (code, len) = codes[ssss as usize];
        w.put(u32::from(code), len);
        if ssss > 0 && ssss < 16 {
            // Positive differences as their low bits; negative ones as those of d - 1.
            let extra = if d > 0 { d } else { d - 1 } as u32 & ((1 << ssss) - 1);
            w.put(extra, ssss);
        }
    }
    let mut out = w.finish();
    out.extend([0xFF, 0xD9]);
    out
}

/// The prediction differences, modulo 2^16 and read as signed (H.1.2.1).
fn differences(samples: &[u16], width: usize, precision: u8) -> Vec<i32> {
    let mut diffs = Vec::with_capacity(samples.len());
    for (i, &x) in samples.iter().enumerate() {
        let (row, col) = (i / width, i % width);
        let prediction = match (row, col) {
            (0, 0) => 1u16 << (precision - 1),
            (_, 0) => samples[i - width],
            _ => samples[i - 1],
        };
        diffs.push(i32::from(x.wrapping_sub(prediction) as i16));
    }
    diffs
}

/// SSSS: the bits of |d| (16 for -32768, the one difference that needs them all).
fn category(d: i32) -> u8 {
    (32 - d.unsigned_abs().leading_zeros()) as u8
}

/// Code lengths for categories 0..=16 from their frequencies, as libjpeg's
/// `jpeg_gen_optimal_table` (a reserved symbol keeps the all-ones code unused; lengths over 16
/// are folded back). Returns `BITS` (count per length, index 1..=16) and `HUFFVAL`.
fn optimal_table(freq: &[u64; 17]) -> ([u8; 33], Vec<u8>) {
    const RESERVED: usize = 17;
    let mut f: Vec<u64> = freq.to_vec();
    f.push(1);
    let mut size = [0usize; 18];
    let mut others = [usize::MAX; 18];
    loop {
        let (mut c1, mut c2) = (usize::MAX, usize::MAX);
        let (mut v1, mut v2) = (u64::MAX, u64::MAX);
        for (i, &v) in f.iter().enumerate() {
            if v != 0 && v <= v1 {
                (c2, v2, c1, v1) = (c1, v1, i, v);
            } else if v != 0 && v <= v2 {
                (c2, v2) = (i, v);
            }
        }
        if c2 == usize::MAX {
            break;
        }
        f[c1] += f[c2];
        f[c2] = 0;
        size[c1] += 1;
        while others[c1] != usize::MAX {
            c1 = others[c1];
            size[c1] += 1;
        }
        others[c1] = c2;
        size[c2] += 1;
        while others[c2] != usize::MAX {
            c2 = others[c2];
            size[c2] += 1;
        }
    }
    let mut bits = [0u8; 33];
    for &s in size.iter().filter(|&&s| s > 0) {
        bits[s] += 1;
    }
    for i in (17..=32).rev() {
        while bits[i] > 0 {
            let mut j = i - 2;
            while bits[j] == 0 {
                j -= 1;
            }
            bits[i] -= 2;
            bits[i - 1] += 1;
            bits[j + 1] += 2;
            bits[j] -= 1;
        }
    }
    let mut longest = 16;
    while bits[longest] == 0 {
        longest -= 1;
    }
    bits[longest] -= 1; // the reserved symbol's code
    let mut values = Vec::new();
    for len in 1..=32 {
        for (sym, &s) in size.iter().enumerate().take(RESERVED) {
            if s == len {
                values.push(sym as u8);
            }
        }
    }
    (bits, values)
}

/// (code, length) per category, canonical codes in HUFFVAL order (T.81 Annex C).
fn canonical_codes(bits: &[u8; 33], values: &[u8]) -> [(u16, u8); 17] {
    let mut codes = [(0u16, 0u8); 17];
    let mut code = 0u16;
    let mut k = 0;
    for len in 1..=16u8 {
        for _ in 0..bits[len as usize] {
            codes[values[k] as usize] = (code, len);
            code += 1;
            k += 1;
        }
        code <<= 1;
    }
    codes
}

/// MSB-first bits with 0xFF byte stuffing; padded with ones.
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    n: u8,
}

impl BitWriter {
    fn put(&mut self, value: u32, len: u8) {
        self.acc = (self.acc << len) | u64::from(value & ((1u32 << len) - 1));
        self.n += len;
        while self.n >= 8 {
            let byte = (self.acc >> (self.n - 8)) as u8;
            self.out.push(byte);
            if byte == 0xFF {
                self.out.push(0);
            }
            self.n -= 8;
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            let pad = 8 - self.n;
            self.put((1 << pad) - 1, pad);
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_and_differences() {
        assert_eq!(
            [0, 1, -1, 2, -3, 255, 4095, -32767, -32768].map(category),
            [0, 1, 1, 2, 2, 8, 12, 15, 16]
        );
        // 2x2, 12 bits: first from 2048, rest of row from the left, column 0 from above.
        assert_eq!(
            differences(&[2050, 2040, 100, 4095], 2, 12),
            [2, -10, -1950, 3995]
        );
        // Differences wrap modulo 2^16 (16-bit data).
        assert_eq!(differences(&[0, 65535], 2, 16), [-32768, -1]);
    }

    #[test]
    fn optimal_table_is_a_valid_prefix_code() {
        // A skewed histogram over every category: lengths must stay within 16, satisfy Kraft's
        // inequality strictly (the all-ones code is never used), and favour frequent symbols.
        let mut freq = [0u64; 17];
        for (i, f) in freq.iter_mut().enumerate() {
            *f = 1 << (40 - 2 * i.min(19));
        }
        let (bits, values) = optimal_table(&freq);
        assert_eq!(values.len(), 17);
        assert!(bits[17..].iter().all(|&b| b == 0));
        let kraft: f64 = (1..=16)
            .map(|l| f64::from(bits[l]) / f64::from(1u32 << l))
            .sum();
        assert!(kraft < 1.0, "{kraft}");
        assert_eq!(
            values[0], 0,
            "the most frequent category gets the shortest code"
        );
        let codes = canonical_codes(&bits, &values);
        assert!(codes
            .iter()
            .all(|&(c, l)| l > 0 && u32::from(c) < (1 << l) - 1));
    }
}
