"""Feasibility report: self-contained HTML (every image a decodable data URI), Markdown,
and, where Chromium is installed, every image loaded in a real headless browser."""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from qaa_hw.analysis.report import ReportFiles, build_report
from qaa_hw.analysis.sweep_spec import SweepPoint
from qaa_hw.devices.catalog import load_device

DEVICES = ("synthetic:ring:8", "synthetic:heavy_hex:27")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def fake_rows() -> list[dict[str, Any]]:
    """Plausible sweep rows (no simulation): error and ESP worsen with size and noise."""
    rows = []
    for name in DEVICES:
        device = load_device(name)
        for scale in (1.0, 2.0):
            for n in (2, 3):
                for layers in (1, 2):
                    for mitigation in ("none", "zne"):
                        size = n * layers
                        err = 0.012 * size * scale * (0.3 if mitigation == "zne" else 1.0)
                        qubits = list(range(n))
                        rows.append({
                            **SweepPoint(device=name, noise_scale=scale, qubits=n,
                                         layers=layers, mitigation=mitigation).to_dict(),
                            "status": "ok", "key": f"{name}{scale}{n}{layers}{mitigation}",
                            "parameters": size, "depth": 6 * size, "two_qubit_count": 3 * size,
                            "esp": 0.97 ** (3 * size * scale), "duration_s": 2e-6 * size,
                            "min_t2_s": min(device.qubits[q].t2_s for q in qubits),
                            "final_layout": json.dumps(qubits), "active_qubits":
                            json.dumps(qubits), "output_fidelity": 1 - 2 * err,
                            "abs_error": 0.012 * size * scale, "mitigated_abs_error": err,
                            "circuits_per_estimate": 3.0 if mitigation == "zne" else 1.0,
                        })
    rows.append({**SweepPoint(device=DEVICES[0], qubits=5).to_dict(), "status": "failed",
                 "key": "broken", "error": "CompilationError: no"})
    return rows


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> ReportFiles:
    out = tmp_path_factory.mktemp("report")
    return build_report(fake_rows(), [*DEVICES, "synthetic:line:4"], out,
                        failures=[{"key": "broken", "device": DEVICES[0], "qubits": 5,
                                   "layers": 2, "mitigation": "none", "error": "no"}])


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "img":
            self.sources.append(a.get("src") or "")
        for key in ("href", "src"):
            if tag != "img" and a.get(key):
                self.links.append(str(a[key]))


def test_every_img_is_a_decodable_data_uri(report: ReportFiles) -> None:
    parser = _Images()
    parser.feed(report.html.read_text(encoding="utf-8"))
    # 3 sweep plots + coupling map and Pareto view for each device with data
    assert len(parser.sources) == 3 + 2 * len(DEVICES)
    assert parser.links == []  # nothing external: no stylesheet, script or link
    for src in parser.sources:
        m = re.fullmatch(r"data:image/(png|svg\+xml);base64,([A-Za-z0-9+/=]+)", src)
        assert m, src[:60]
        data = base64.b64decode(m.group(2), validate=True)
        if m.group(1) == "png":
            assert data.startswith(PNG_MAGIC) and len(data) > 1000
        else:
            assert b"<svg" in data[:2000]


def test_sections_verdicts_and_markdown(report: ReportFiles) -> None:
    text = html.unescape(report.html.read_text(encoding="utf-8"))
    for name in DEVICES:
        assert f"<h2>{name} <span class=\"badge" in text
    assert "No assessment: the sweep has no successful point for device 'synthetic:line:4'" \
        in text
    md = report.markdown.read_text(encoding="utf-8")
    assert "## synthetic:ring:8 — **" in md and "| configuration | circuit verdict |" in md
    assert "Cost verdict of the recommended configuration" in md
    assert "Advantage check: synthetic:ring:8 (" in md and "classical quadratic form" in md
    assert "USD 1.6 per QPU-second" in md
    for link in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md):
        assert (report.markdown.parent / link).is_file(), link
    for plot in report.plots:
        assert plot.is_file() and plot.with_suffix(".svg").is_file()
    assessment = json.loads(report.assessment.read_text())
    assert [a["device"] for a in assessment] == [*DEVICES, "synthetic:line:4"]
    assert assessment[0]["recommended"]["noise_scale"] == 1.0
    assert "Failed points" in md


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which(
        "google-chrome")


@pytest.mark.skipif(chromium() is None, reason="chromium is not installed (apt-get install -y "
                    "chromium); docs/sweeps.md has the screenshot command")
def test_report_opens_in_headless_chromium(report: ReportFiles, tmp_path: Path) -> None:
    """Load the report in headless Chromium; a script counts images that decoded."""
    probe = tmp_path / "probe.html"
    script = ("<script>window.addEventListener('load',()=>{const i=[...document.images];"
              "document.body.setAttribute('data-loaded',i.filter(x=>x.complete&&"
              "x.naturalWidth>0).length+'/'+i.length);"
              "const s=[...document.querySelectorAll('h2')].filter(h=>h.querySelector('.badge'))"
              ".map(h=>{const r=h.getBoundingClientRect();const b=h.querySelector('.badge');"
              "return [h.firstChild.textContent.trim(),r.top+window.scrollY,r.height,"
              "b.textContent];});"
              "document.body.setAttribute('data-sections',JSON.stringify(s));"
              "document.body.setAttribute('data-height',"
              "Math.ceil(document.documentElement.scrollHeight));});</script>")
    probe.write_text(report.html.read_text(encoding="utf-8").replace("</body>",
                                                                     script + "</body>"))
    exe = chromium()
    assert exe is not None
    common = [exe, "--headless", "--no-sandbox", "--disable-gpu",
              "--disable-background-networking", "--virtual-time-budget=5000"]
    dom = subprocess.run([*common, "--window-size=1200,2000", "--dump-dom", probe.as_uri()],
                         capture_output=True,
                         text=True, timeout=120, check=True).stdout
    m = re.search(r'data-loaded="(\d+)/(\d+)"', dom)
    assert m, dom[:300]
    assert m.group(1) == m.group(2) == str(3 + 2 * len(DEVICES))
    found = re.search(r'data-sections="([^"]*)"', dom)
    tall = re.search(r'data-height="(\d+)"', dom)
    assert found and tall, dom[:300]
    sections, height = json.loads(html.unescape(found.group(1))), int(tall.group(1))
    shot = tmp_path / "report.png"
    subprocess.run([*common, f"--window-size=1200,{height}", f"--screenshot={shot}",
                    report.html.as_uri()], capture_output=True, timeout=120, check=True)
    assert shot.read_bytes().startswith(PNG_MAGIC)
    _check_screenshot(shot, sections, height)


def _check_screenshot(shot: Path, sections: list[list[Any]], height: int) -> None:
    """Every device section's heading is drawn in the screenshot: dark text pixels in its
    rows, and its verdict badge's colour (green, orange, red or grey) next to it."""
    import numpy as np
    from PIL import Image

    image = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert image.shape[0] == height
    badges = {"feasible": (0x2E, 0x7D, 0x32), "marginal": (0xEF, 0x8F, 0x00),
              "infeasible": (0xC6, 0x28, 0x28), "none": (0x77, 0x77, 0x77)}
    seen = [name for name, *_ in sections]
    for device in [*DEVICES, "synthetic:line:4"]:
        (name, top, rows, badge), = [s for s in sections if s[0] == device]
        band = image[int(top):int(top + rows)]
        assert band.size and band.min() < 80, f"no text drawn for section {name} ({seen})"
        colour = np.array(badges[badge])
        assert (np.abs(band - colour).sum(-1) < 40).sum() > 50, f"no {badge} badge for {name}"
