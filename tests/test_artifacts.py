"""The draft as the Prefect UI shows it: figures embedded, local links that lead somewhere, and
the shortlist's deciding columns first. (bench/artifacts_ui.py screenshots it in Chromium.)"""

from __future__ import annotations

import base64
import json

from flows.digest import write
from flows.digest.artifacts import candidates_table, for_ui
from tests.test_digest import _parts
from tests.test_pull_request import PICKS, RUNNERS, write_draft

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def test_figures_are_embedded_and_local_links_lead_somewhere(tmp_path):
    write(tmp_path, **_parts())
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "a.png").write_bytes(PNG)
    page = (f'{(tmp_path / "README.md").read_text()}\n<img width="700" alt="Figure 1" src="figures/a.png">\n'
            "![Figure 2](figures/a.png) ![gone](figures/missing.png) ![outside](../secret.png)\n"
            "[notes](notes.txt) [arXiv](https://arxiv.org/abs/2611.00001)\n")

    shown = for_ui(page, tmp_path, "/artifacts/artifact/0b9e")

    data = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert f"![Figure 1]({data})" in shown and f"![Figure 2]({data})" in shown
    assert "](figures/" not in shown and 'src="figures/' not in shown  # no broken image left
    assert "(figure figures/missing.png in" in shown and "(figure ../secret.png in" in shown
    assert f"[{tmp_path.name} papers](/artifacts/artifact/0b9e)" in shown and "](papers.md)" not in shown
    assert f"notes (`{tmp_path / 'notes.txt'}`)" in shown and "[arXiv](https://arxiv.org/abs/2611.00001)" in shown


def test_the_shortlist_table_starts_with_rank_pick_linked_title_scores_and_reason(tmp_path):
    candidates = json.loads((write_draft(tmp_path / "2026-W47") / "candidates.json").read_text())
    candidates["candidates"][0]["title"] = "A | B [C](https://e.x) <s>"
    candidates["candidates"][0]["reason"] = "line one\nline two " + "long " * 40
    candidates["candidates"][1]["title"] = "T" * 80

    table = candidates_table(candidates).splitlines()

    assert table[0] == "| Rank | Pick | Paper | Stage 1 | LLM | Reason |"
    first = table[2]
    by_score = sorted(candidates["candidates"], key=lambda r: (-r["cheap_score"], r["arxiv_id"]))
    place = [r["arxiv_id"] for r in by_score].index(PICKS[0]) + 1  # stage 1's place, not its fused score
    assert first.startswith(f"| 1 | pick 1 | [A \\| B \\[C\\](https://e.x) \\<s\\>](https://arxiv.org/abs/{PICKS[0]})"
                            f" | #{place} | 8.9 | line one line two long")
    assert first.count(" | ") == 5  # the pipe in the title did not add a column
    assert len(first.split(" | ")[5]) <= 62  # cells never wrap in the UI: the row fits 1400 px
    assert "T" * 47 + "…" in table[3] and "T" * 48 not in table[3]
    assert table[2 + 5].startswith(f"| 6 | R1 | [Title of {RUNNERS[0]}](https://arxiv.org/abs/{RUNNERS[0]})")
    rows = [line for line in table if line.startswith("| ") and line[2].isdigit()]
    assert len(rows) == len(PICKS) + len(RUNNERS)
    why = [line for line in table if line.startswith("- **")]  # the reasons in full, below
    assert why[0].startswith("- **pick 1** [A") and why[0].endswith("long " * 39 + "long")
    assert why[5].startswith(f"- **R1** [Title of {RUNNERS[0]}]") and len(why) == 10
