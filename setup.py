"""Package `toolkit`: a speech training toolkit in the Kaldi/ESPnet tradition."""
from setuptools import find_packages, setup

INSTALL_REQUIRES = [
    "torch==2.11.0",
    "torchaudio==2.11.0",
    "sentencepiece>=0.2",
    "kaldiio>=2.18",
    "numpy>=1.24",
    "configargparse>=1.7",
    "matplotlib>=3.7",
    "soundfile>=0.12",
    "pyyaml>=6.0",
    "tqdm>=4.66",
    "espeakng-loader==0.2.4",
    "scipy>=1.11",
    "pyworld==0.3.5",     # WORLD F0 (TTS pitch, scoring); an sdist, built with g++ at install
    "setuptools<82",      # pyworld imports pkg_resources, which setuptools 82 removed
]

EXTRAS_REQUIRE = {
    "test": ["pytest>=8", "jiwer>=3.0", "fast_bss_eval==0.1.4", "mir_eval>=0.8,<0.9", "auraloss==0.4.0",
             "pysptk==1.0.1", "dtw-python==1.9.0"],
    "sep_metrics": ["pesq>=0.0.4", "pystoi>=0.4"],  # optional PESQ/STOI in score_sep
    "tensorboard": ["tensorboard>=2.15"],
}

setup(
    name="toolkit",
    version="0.1.0",
    description="Speech training toolkit: recipes for ASR, separation and TTS on PyTorch",
    packages=find_packages(include=["toolkit", "toolkit.*"]),
    python_requires=">=3.10",
    install_requires=INSTALL_REQUIRES,
    extras_require=EXTRAS_REQUIRE,
)
