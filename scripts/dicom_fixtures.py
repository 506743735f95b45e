#!/usr/bin/env python3
"""Generate the DICOM fixtures that another implementation wrote, for crates/data/tests/it/dicom.rs.

cxr's own DICOM writer (crates/data/src/dicom_write.rs) makes most test files; these few come
from pydicom instead, so that a reader bug mirrored by our writer cannot hide, and so that the
JPEG 2000 decoder (which we cannot encode for) is exercised. From a 64x64 crop of a real film of
the sample (COVID/images/COVID-100.png, rows and columns 96..160) with grey levels p:

    crop.png                   the crop itself, 8-bit gray: what every fixture must decode to
    j2k-mono1-rescale.dcm      JPEG 2000 Lossless (pylibjpeg-openjpeg), CR, MONOCHROME1,
                               12 bits stored in 16: stored = 8 (255 - p) + 500, Rescale Slope 2,
                               Intercept -1000, Window Center 2040.5 / Width 4081
    rle-mono2-voilut.dcm       RLE Lossless (pydicom's encoder), DX, MONOCHROME2, stored = 16 p,
                               a VOI LUT Sequence of 4096 12-bit entries round(x / 16 * 4095 / 255)
                               and a contradicting window (the LUT must win)

Each object carries made-up patient attributes (the same as `Patient::canary()`).

Run (from the repository root; needs the real sample in ../shared/data):
    python3 -m venv /var/tmp/dicom-venv
    /var/tmp/dicom-venv/bin/pip install pydicom==3.0.2 numpy pillow pylibjpeg==2.1.0 pylibjpeg-openjpeg==2.6.0
    /var/tmp/dicom-venv/bin/python scripts/dicom_fixtures.py
"""

import argparse
from pathlib import Path

import numpy as np
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import (
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    RLELossless,
    generate_uid,
)

DX = "1.2.840.10008.5.1.4.1.1.1.1"
CR = "1.2.840.10008.5.1.4.1.1.1"


def base(sop_class: str, modality: str, stored: np.ndarray, photometric: str) -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=[modality, photometric])
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.PatientName = "Canary^Priscilla^Q"
    ds.PatientID = "PID-7Q3X9Z"
    ds.PatientBirthDate = "19230405"
    ds.AccessionNumber = "ACC-58K2W1"
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid(entropy_srcs=["study"])
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=["series", modality])
    ds.Modality = modality
    ds.Rows, ds.Columns = stored.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.PixelData = stored.astype("<u2").tobytes()
    return ds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sample",
        default="../shared/data/COVID-19_Radiography_Dataset/COVID/images/COVID-100.png",
    )
    parser.add_argument("--out-dir", default="crates/data/tests/fixtures/dicom")
    args = parser.parse_args()
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)

    p = np.asarray(Image.open(args.sample).convert("L"))[96:160, 96:160].astype(np.uint16)
    Image.fromarray(p.astype(np.uint8), mode="L").save(out / "crop.png")

    j2k = base(CR, "CR", 8 * (255 - p) + 500, "MONOCHROME1")
    j2k.RescaleIntercept = "-1000"
    j2k.RescaleSlope = "2"
    j2k.RescaleType = "US"
    j2k.WindowCenter = "2040.5"
    j2k.WindowWidth = "4081"
    j2k.compress(JPEG2000Lossless, encoding_plugin="pylibjpeg")
    j2k.save_as(out / "j2k-mono1-rescale.dcm", enforce_file_format=True)

    rle = base(DX, "DX", 16 * p, "MONOCHROME2")
    lut = Dataset()
    lut.LUTDescriptor = [4096, 0, 12]
    lut.LUTData = [round(x / 16 * 4095 / 255) for x in range(4096)]
    lut["LUTData"].VR = "US"
    lut.LUTExplanation = "16 p -> p"
    rle.VOILUTSequence = Sequence([lut])
    rle.WindowCenter = "100"  # would clip almost everything: the LUT takes precedence
    rle.WindowWidth = "10"
    rle.compress(RLELossless)
    rle.save_as(out / "rle-mono2-voilut.dcm", enforce_file_format=True)

    for f in sorted(out.iterdir()):
        print(f"{f}: {f.stat().st_size} bytes")


if __name__ == "__main__":
    main()
