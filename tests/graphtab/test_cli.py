import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from graphtab.cli import main
from nnstore import ArtifactWriter, __version__


def test_version_and_help(capsys):
    out = subprocess.run([sys.executable, "-m", "graphtab.cli", "--version"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"graphtab {__version__}"
    assert main([]) == 2
    assert "artifact" in capsys.readouterr().out


def test_console_script_is_installed():
    exe = Path(sys.executable).parent / "graphtab"
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=True)
    assert "artifact" in out.stdout


def test_inspect_prints_manifest_and_refuses_bad_artifact(tmp_path, capsys):
    with ArtifactWriter(tmp_path / "a", kind="demo", params={"k": 1}) as w:
        w.save_array("v", np.zeros(3))
    assert main(["artifact", "inspect", str(tmp_path / "a")]) == 0
    manifest = json.loads(capsys.readouterr().out)
    assert manifest["kind"] == "demo" and "v.npy" in manifest["files"]
    assert main(["artifact", "inspect", str(tmp_path / "a"), "--kind", "other"]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "expected 'other'" in err
