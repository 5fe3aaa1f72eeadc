"""The built wheel, installed in a fresh venv outside the checkout, runs with its own data.

The wheel is built, like the Dockerfile builds it, from a copy of exactly what the
Dockerfile copies (no stale ``build/`` leaks in, and the image's build context
is enough), and
installed without its dependencies into a venv whose only other path is this
venv's site-packages (a ``.pth`` line: offline, and nothing of the checkout: the
editable install's hook is not processed there). Commands then run from a temp
folder, so a file found through the checkout instead of the package fails them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import handoff_hub

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"


def _stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile's stages, each a list of (instruction, arguments), continuations joined."""
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        instruction, _, arguments = line.strip().partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        stages[-1].append((instruction.upper(), arguments.strip()))
    return stages


def _copied() -> list[str]:
    """What the image's build stage copies from the checkout: the wheel is built from these."""
    copies = [args.split() for op, args in _stages()[0] if op == "COPY"]
    return [name.rstrip("/") for *sources, _ in copies for name in sources if name != "./"]


SOURCES = tuple(_copied())


def _run(args: list[str], cwd: Path, timeout: float = 300, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PREFECT_API_URL"}}
    done = subprocess.run(
        args,
        cwd=cwd,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _build_wheel(work: Path) -> Path:
    src = work / "src"
    src.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(
                path,
                src / name,
                symlinks=True,
                ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
            )
        else:
            shutil.copy2(path, src / name)
    pip = [sys.executable, "-m", "pip"]
    _run([*pip, "wheel", "--no-deps", "-q", "-w", str(work / "dist"), str(src)], work)
    (wheel,) = (work / "dist").glob("handoff_hub-*.whl")
    return wheel


def _fresh_venv(work: Path, wheel: Path) -> Path:
    venv = work / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], work)
    python = venv / "bin" / "python"
    purelib = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], work
    )
    Path(purelib.strip(), "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    _run([*pip, "install", "-q", "--no-deps", "--no-index", str(wheel)], work)
    return venv


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    return _fresh_venv(work, _build_wheel(work))


@pytest.mark.reliability  # building and installing the wheel takes ~15 s of the suite's budget
def test_the_installed_hub_knows_its_version_and_finds_its_data(
    installed: Path, tmp_path: Path
) -> None:
    hub = str(installed / "bin" / "hub")
    assert _run([hub, "--version"], tmp_path).split() == ["hub", handoff_hub.__version__]

    probe = (
        "import handoff_hub; from handoff_hub.hub.bundled import examples_dir, mappings_dir;"
        "print(handoff_hub.__file__); print(examples_dir()); print(mappings_dir())"
    )
    package, examples, mappings = _run(
        [str(installed / "bin" / "python"), "-c", probe], tmp_path
    ).split()
    assert Path(package).is_relative_to(installed) and not Path(package).is_relative_to(ROOT)
    assert sorted(p.name for p in Path(examples).iterdir()) == sorted(
        p.name for p in (ROOT / "examples").iterdir()
    )
    for name in ("hub-config.schema.json", "mapping.schema.json", "salesforce.yaml", "jira.yaml"):
        assert (Path(mappings) / name).read_bytes() == (ROOT / "mappings" / name).read_bytes()

    example = Path(examples) / "salesforce-jira.yaml"
    secrets = {
        var: "x" for var in ("SF_CLIENT_ID", "SF_CLIENT_SECRET", "JIRA_EMAIL", "JIRA_API_TOKEN")
    }
    assert "2 mapping(s) valid" in _run([hub, "validate", "-c", str(example)], tmp_path, **secrets)


@pytest.mark.reliability  # a minute: Prefect's embedded server starts cold in the fresh venv
def test_the_installed_hub_runs_its_demo(installed: Path, tmp_path: Path) -> None:
    hub = str(installed / "bin" / "hub")
    out = _run(
        [hub, "demo", "--records", "20", "--dir", str(tmp_path / "state")],
        tmp_path,
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        COLUMNS="200",
    )
    assert "won-to-project · first run" in out and "created" in out
    assert (tmp_path / "state" / "reconcile.html").is_file()


def test_the_dockerfile_builds_the_wheel_installs_it_and_runs_the_demo() -> None:
    build, final = _stages()
    assert all(args.startswith("python:3.11-slim") for op, args in build + final if op == "FROM")
    links = {p.name for p in (ROOT / "handoff_hub").iterdir() if p.is_symlink()}
    assert links <= set(SOURCES) and {"pyproject.toml", "handoff_hub"} <= set(SOURCES)
    assert ("RUN", "pip wheel --no-deps --wheel-dir /dist .") in build
    install = next(args for op, args in final if op == "RUN" and "pip install" in args)
    assert "/dist/handoff_hub-*.whl" in install
    assert ("USER", "hub") in final and final[-1] == ("CMD", '["hub", "demo"]')
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert not set(ignored) & set(SOURCES)
