"""Export scikit-learn's handwritten digits into the two small files the course ships (run once, by authors).

    pip install scikit-learn          # only for this script; the course itself never imports sklearn
    python datasets/digits/export.py            # (re)writes train.csv.gz and test.csv.gz next to this file
    python datasets/digits/export.py --check    # exits 1 unless the committed files are exactly what it makes

Source: ``sklearn.datasets.load_digits()`` — 1797 images of 8×8 pixels, each pixel an integer 0..16 (the
count of set pixels in a 4×4 block of a 32×32 bitmap), labels 0..9. It is the test part of the UCI
"Optical Recognition of Handwritten Digits" set (Alpaydin & Kaynak, 1998); scikit-learn ships it under
BSD-3-Clause.

Split: 80/20 at random, with ``numpy.random.default_rng(SEED).permutation(1797)``: the first 360 indices
of the permutation are the test split, the other 1437 the train split. Each file keeps scikit-learn's row
order (sorted by original index).

Format (one file per split, gzip'd CSV, deterministic bytes: gzip mtime 0, no file name in the header):

    label,p0,p1,...,p63          header
    0,0,0,5,13,9,1,0,0,...       one image per line: the label, then 64 pixels in row-major order (0..16)
"""
from __future__ import annotations

import argparse
import gzip
import io
import sys
from pathlib import Path

import numpy as np

SEED = 0
N_TEST = 360
HERE = Path(__file__).resolve().parent


def make_files() -> dict[str, bytes]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = digits.images.reshape(len(digits.images), 64).astype(np.int64)   # float 0..16 -> int
    labels = digits.target.astype(np.int64)
    assert images.shape == (1797, 64) and images.min() == 0 and images.max() == 16
    assert np.array_equal(images, digits.images.reshape(-1, 64))              # the values are integers

    perm = np.random.default_rng(SEED).permutation(len(labels))
    splits = {"test": np.sort(perm[:N_TEST]), "train": np.sort(perm[N_TEST:])}
    files = {}
    for name, idx in splits.items():
        text = io.StringIO()
        text.write("label," + ",".join(f"p{i}" for i in range(64)) + "\n")
        for i in idx:
            text.write(",".join(str(v) for v in (labels[i], *images[i])) + "\n")
        raw = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
            gz.write(text.getvalue().encode("ascii"))
        files[f"{name}.csv.gz"] = raw.getvalue()
    return files


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files, write nothing")
    args = parser.parse_args(argv)
    files = make_files()
    if args.check:
        stale = [n for n, data in files.items() if not (HERE / n).is_file() or (HERE / n).read_bytes() != data]
        print("up to date" if not stale else f"differ: {', '.join(stale)}")
        return 1 if stale else 0
    for name, data in files.items():
        (HERE / name).write_bytes(data)
        print(f"wrote {HERE / name} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
