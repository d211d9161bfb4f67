"""The outcome of every check: failures printed as they happen, the figures as one short table at the end."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field


@dataclass
class Report:
    """Checks as (runtime, model, check, ok, detail); figures per (runtime, model) for the table."""

    checks: list[tuple[str, str, str, bool, str]] = field(default_factory=list)
    figures: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check[3] for check in self.checks)

    def add(self, runtime: str, model: str, check: str, ok: bool, detail: str = "") -> None:
        self.checks.append((runtime, model, check, bool(ok), detail))
        self.figures.setdefault((runtime, model), {})
        if not ok:
            print(f"arm64: FAILED {runtime} {model} {check}: {detail}", file=sys.stderr, flush=True)

    def figure(self, runtime: str, model: str, name: str, value: str) -> None:
        self.figures.setdefault((runtime, model), {})[name] = value

    def print(self, seconds: float) -> None:
        columns = ["runtime", "model", "checks", "verify", "vs torch", "vs x86-64", "time"]
        table = [["runtime", "model", "checks", "verify diff", "max |torch diff|", "max |x86-64 diff|", "time"]]
        for (runtime, model), figures in self.figures.items():
            mine = [c for c in self.checks if c[:2] == (runtime, model)]
            passed = f"{sum(c[3] for c in mine)}/{len(mine)}"
            table.append([runtime, model, passed, *(figures.get(name, "") for name in columns[3:])])
        width = [max(len(row[i]) for row in table) for i in range(len(columns))]
        for row in table:
            print("  ".join(cell.ljust(w) for cell, w in zip(row, width)).rstrip())
        for note in self.notes:
            print(note)
        failed = sum(not c[3] for c in self.checks)
        print(
            f"arm64: {len(self.checks) - failed} checks ok, {failed} failed, {seconds:.0f} s"
            + ("" if self.ok else " (failures listed above)")
        )
