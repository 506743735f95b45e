//! A DICOM RLE Lossless encoder (PS3.5 Annex G), the writing half dicom-rs lacks: one segment
//! per byte plane of each sample (most significant first), each PackBits-coded row by row,
//! after a 64-byte header of segment offsets.

/// Encodes one frame of `samples` (row-major, `width` per row) with `bytes_per_sample` (1 or 2)
/// byte planes as a DICOM RLE fragment.
pub fn encode(samples: &[u16], width: usize, bytes_per_sample: usize) -> Vec<u8> {
    let segments: Vec<Vec<u8>> = (0..bytes_per_sample)
        .map(|plane| {
            let shift = 8 * (bytes_per_sample - 1 - plane);
            let bytes: Vec<u8> = samples.iter().map(|&s| (s >> shift) as u8).collect();
            let mut seg = Vec::new();
            for row in bytes.chunks(width.max(1)) {
                packbits(row, &mut seg);
            }
            if seg.len() % 2 == 1 {
                seg.push(0);
            }
            seg
        })
        .collect();
    let mut out = Vec::with_capacity(64 + segments.iter().map(Vec::len).sum::<usize>());
    out.extend((segments.len() as u32).to_le_bytes());
    let mut offset = 64u32;
    for i in 0..15 {
        let at = segments.get(i).map_or(0, |_| offset);
        out.extend(at.to_le_bytes());
        offset += segments.get(i).map_or(0, |s| s.len() as u32);
    }
    for seg in segments {
        out.extend(seg);
    }
    out
}

/// PackBits: `n` in 0..=127 then `n + 1` literal bytes; `1 - n` (as i8, n in 2..=128) then one
/// byte repeated `n` times.
fn packbits(row: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < row.len() {
        let mut run = 1;
        while i + run < row.len() && run < 128 && row[i + run] == row[i] {
            run += 1;
        }
        if run >= 2 {
            out.push((1 - run as i32) as i8 as u8);
            out.push(row[i]);
            i += run;
            continue;
        }
        let start = i;
        while i < row.len() && i - start < 128 {
            if i + 1 < row.len() && row[i + 1] == row[i] {
                break;
            }
            i += 1;
        }
        out.push((i - start - 1) as u8);
        out.extend(&row[start..i]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packbits_literals_and_runs() {
        let mut out = Vec::new();
        packbits(&[1, 2, 3, 3, 3, 3, 4], &mut out);
        // literal [1, 2], a run of four 3s, literal [4].
        assert_eq!(out, [1, 1, 2, 0xFD, 3, 0, 4]);
        let mut long = Vec::new();
        packbits(&[9; 130], &mut long);
        assert_eq!(long, [0x81, 9, 0xFF, 9], "128 then 2");
    }

    #[test]
    fn header_points_at_the_byte_planes() {
        let frag = encode(&[0x0102, 0x0304], 2, 2);
        assert_eq!(&frag[..4], &2u32.to_le_bytes());
        assert_eq!(&frag[4..8], &64u32.to_le_bytes());
        // High bytes [1, 3] as a 2-byte literal, padded to even length: 4 bytes.
        assert_eq!(&frag[8..12], &68u32.to_le_bytes());
        assert_eq!(&frag[64..68], &[1, 1, 3, 0]);
        assert_eq!(&frag[68..], &[1, 2, 4, 0]);
    }
}
