"""The dataset registry: where each HR set comes from, how it is laid out, and how it is verified.

A ``DatasetSpec`` lists the set's source files (name relative to the set's folder) with their
sha256 where known. Three kinds of source:
    embedded  files shipped inside scikit-image (``demo*``): no network, no mirror
    archive   an official (or community-standard) archive URL; a mirror may hold the extracted
              folder (``mirror_subdir``) or the archive file itself
    folder    ``folder:<path>``: the user's own HR images, taken as they are (no checksums)
Verification: per-file sha256 of the bytes (``checksums/<name>.sha256``, from the mirror's
MANIFEST.tsv), plus the sha256 of the decoded pixels (``checksums/<name>.pixels.sha256``), which
also covers files that arrive in another container (JPEG/BMP) with the same pixels.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import RtsrError

CHECKSUM_DIR = Path(__file__).resolve().parent / "checksums"
IMAGE_SUFFIXES = (".png", ".bmp", ".jpg", ".jpeg", ".tif", ".tiff", ".ppm", ".webp")


class DatasetError(RtsrError):
    """A dataset problem (unknown name, missing/corrupt file, bad archive); one-line message."""


@dataclass(frozen=True)
class DatasetSpec:
    """One HR dataset: identity, provenance and the expected files (names relative to ``src``)."""

    name: str
    role: str
    citation: str
    kind: str  # "embedded" | "archive" | "folder"
    files: tuple[str, ...]
    sha256: dict[str, str] = field(default_factory=dict)  # file name -> sha256 of its bytes
    pixel_sha256: dict[str, str] = field(default_factory=dict)  # stem -> pixel_sha256
    pages: tuple[str, ...] = ()
    url: str | None = None  # archive to download
    archive_sha256: str | None = None
    archive_subdir: str = ""  # folder inside the extracted archive holding ``files``
    archive_suffix: str | None = None  # the archive's files have this suffix instead (same stems)
    mirror_subdir: str | None = None  # folder inside a mirror holding ``files``
    src: Path | None = None  # embedded / folder: where the files already are

    @property
    def stems(self) -> tuple[str, ...]:
        """Output stems (``data/hr/<name>/<stem>.png``), in file order."""
        return tuple(Path(f).stem for f in self.files)

    @property
    def archive_name(self) -> str | None:
        """File name of the archive (for the download cache and for mirrors holding the archive)."""
        return self.url.rsplit("/", 1)[-1] if self.url else None


def _read_sums(path: Path) -> dict[str, str]:
    """Parse a ``sha256sum``-format file into {name: sha256}."""
    sums = {}
    for line in path.read_text().splitlines():
        sha, name = line.split(maxsplit=1)
        sums[name.strip()] = sha
    return sums


def _mirror_set(name: str, role: str, citation: str, pages, url, archive_subdir, mirror_subdir,
                archive_suffix=None):
    """A set verified by the committed checksum lists (generated from the mirror's MANIFEST.tsv)."""
    sums = _read_sums(CHECKSUM_DIR / f"{name}.sha256")
    return DatasetSpec(
        name=name, role=role, citation=citation, kind="archive", files=tuple(sums),
        sha256=sums, pixel_sha256=_read_sums(CHECKSUM_DIR / f"{name}.pixels.sha256"),
        pages=tuple(pages), url=url, archive_subdir=archive_subdir, mirror_subdir=mirror_subdir,
        archive_suffix=archive_suffix,
    )


def _div2k(name: str, role: str, first: int, last: int, part: str) -> DatasetSpec:
    """DIV2K HR split (no published per-file checksums; the archive hash is recorded at fetch)."""
    return DatasetSpec(
        name=name, role=role, kind="archive",
        citation="DIV2K: Agustsson & Timofte, NTIRE 2017 (CVPRW); research use only",
        files=tuple(f"{i:04d}.png" for i in range(first, last + 1)),
        pages=("https://data.vision.ee.ethz.ch/cvl/DIV2K/",),
        url=f"https://data.vision.ee.ethz.ch/cvl/DIV2K/DIV2K_{part}_HR.zip",
        archive_subdir=f"DIV2K_{part}_HR", mirror_subdir=f"DIV2K_{part}_HR",
    )


def _skimage_data_dir() -> Path:
    """Folder of scikit-image's bundled sample images."""
    import skimage

    return Path(skimage.__file__).resolve().parent / "data"


def _demo(name: str, role: str, files: tuple[str, ...]) -> DatasetSpec:
    """Photographs bundled with scikit-image, verified against ``skimage.data._registry``."""
    from skimage.data._registry import registry

    return DatasetSpec(
        name=name, role=role, kind="embedded", files=files,
        sha256={f: registry[f"data/{f}"] for f in files},
        citation="scikit-image sample data (see skimage/data/README.txt for each image's licence)",
        pages=("https://scikit-image.org/docs/stable/api/skimage.data.html",),
        src=_skimage_data_dir(),
    )


# The benchmark archive distributed with EDSR (layout benchmark/<Set>/HR/*) is the
# community-standard source of Set5/Set14/Urban100; the original pages are listed too.
_BENCHMARK_TAR = "https://cv.snu.ac.kr/research/EDSR/benchmark.tar"

_BUILDERS = {
    "div2k_train": lambda: _div2k("div2k_train", "train", 1, 800, "train"),
    "div2k_valid": lambda: _div2k("div2k_valid", "valid", 801, 900, "valid"),
    "set5": lambda: _mirror_set(
        "set5", "test", "Set5: Bevilacqua et al., BMVC 2012; research use",
        ["https://people.rennes.inria.fr/Aline.Roumy/results/SR_BMVC12.html"],
        _BENCHMARK_TAR, "benchmark/Set5/HR", "Set5/HR"),
    "set14": lambda: _mirror_set(
        "set14", "test", "Set14: Zeyde et al., Curves and Surfaces 2010; research use",
        ["https://sites.google.com/site/romanzeyde/research-interests"],
        _BENCHMARK_TAR, "benchmark/Set14/HR", "Set14/HR"),
    "urban100": lambda: _mirror_set(
        "urban100", "test", "Urban100: Huang, Singh & Ahuja, CVPR 2015; research use",
        ["https://github.com/jbhuang0604/SelfExSR"],
        _BENCHMARK_TAR, "benchmark/Urban100/HR", "Urban100/HR"),
    "t91": lambda: _mirror_set(
        "t91", "train", "T91: Yang, Wright, Huang & Ma, IEEE TIP 2010; research use",
        ["http://www.ifp.illinois.edu/~jyang29/ScSR.htm",
         "https://mmlab.ie.cuhk.edu.hk/projects/SRCNN.html"],
        "https://mmlab.ie.cuhk.edu.hk/projects/SRCNN/SRCNN_train.zip", "Train", "T91"),
    "bsd200": lambda: _mirror_set(
        "bsd200", "train",
        "BSD200 (BSDS300 train split): Martin, Fowlkes, Tal & Malik, ICCV 2001; non-commercial research",
        ["https://www2.eecs.berkeley.edu/Research/Projects/CS/vision/bsds/"],
        "https://www2.eecs.berkeley.edu/Research/Projects/CS/vision/bsds/BSDS300-images.tgz",
        "BSDS300/images/train", "BSD200", ".jpg"),
    "demo": lambda: _demo("demo", "test", ("astronaut.png", "coffee.png", "chelsea.png")),
    "demo_train": lambda: _demo("demo_train", "train", (
        "rocket.jpg", "hubble_deep_field.jpg", "retina.jpg", "ihc.png", "motorcycle_left.png")),
    "demo_valid": lambda: _demo("demo_valid", "valid", ("motorcycle_right.png",)),
}


def list_datasets() -> list[str]:
    """Registered dataset names (``folder:<path>`` is accepted too but not listed)."""
    return list(_BUILDERS)


def get_dataset(name: str) -> DatasetSpec:
    """The spec of ``name`` (or ``folder:<path>``); unknown names raise with close matches."""
    if name.startswith("folder:"):
        return folder_dataset(Path(name[len("folder:"):]))
    if name not in _BUILDERS:
        close = difflib.get_close_matches(name.lower(), list(_BUILDERS), n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise DatasetError(
            f"unknown dataset {name!r}; {hint}known: {', '.join(_BUILDERS)} or folder:<path>")
    return _BUILDERS[name]()


def folder_dataset(path: Path) -> DatasetSpec:
    """A user folder of HR images (its image files, sorted; no checksums; stems must be unique)."""
    if not path.is_dir():
        raise DatasetError(f"folder:{path}: not a directory; give a folder of HR images")
    broken = sorted(p.name for p in path.iterdir() if p.is_symlink() and not p.exists())
    if broken:
        raise DatasetError(f"folder:{path}: {broken[0]} is a broken symbolic link; fix or remove it")
    files = sorted(p.name for p in path.iterdir()
                   if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))
    if not files:
        raise DatasetError(f"folder:{path}: no images ({', '.join(IMAGE_SUFFIXES)}) found")
    stems = [Path(f).stem for f in files]
    dup = sorted({s for s in stems if stems.count(s) > 1})
    if dup:
        raise DatasetError(f"folder:{path}: several files share the stem {dup[0]!r}; rename them")
    return DatasetSpec(name=f"folder:{path}", role="any", kind="folder", files=tuple(files),
                       citation=f"user folder {path.resolve()}", src=path)
