"""One draft bug report of `keras-conformance upstream` (tools/upstream.py): what it is made of (the
findings of one bug: one expectations entry, or the entries that share a title), the reproducer's
run, the docstring paragraphs it quotes, the threads it links, and its Markdown."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.records.results_format import Run

REPRODUCER_TIMEOUT_S = 300
HEAD_LINES, TAIL_LINES, CHARS = 15, 45, 3000  # what a pasted output keeps of its start and of its end
# The libraries a draft names, as their projects write them.
LIBRARIES = {"tensorflow": "TensorFlow", "tf_keras": "tf-keras", "jax": "JAX", "jaxlib": "jaxlib", "torch": "PyTorch",
             "openvino": "OpenVINO", "python": "Python", "numpy": "NumPy"}
BACKEND_LIBRARIES = {"tensorflow": ("tensorflow",), "jax": ("jax", "jaxlib"), "torch": ("torch",),
                     "openvino": ("openvino",)}
NEW_ISSUE = "https://github.com/keras-team/keras/issues/new"
# Keras 2 (tf.keras) is maintained in its own repository since Keras 3.
NEW_ISSUE_KERAS2 = "https://github.com/keras-team/tf-keras/issues/new"


def tracker(findings: list[Finding]) -> str:
    """Where to file: tf-keras's tracker where every finding comes from a Keras 2 run, else Keras's."""
    keras2 = findings and all(f.run.info.get("generation") == "keras2" for f in findings)
    return NEW_ISSUE_KERAS2 if keras2 else NEW_ISSUE


@dataclass
class Finding:
    """One (optimizer, claim, condition) of one run where an unreported Keras bug was found."""

    run: Run
    optimizer: str
    claim: str
    condition: str | None  # None: a format-1 record, which has no conditions
    fields: dict[str, Any]  # the condition's fields (reproducer, message, configuration, reason, ...)
    record: dict[str, Any]  # the (optimizer, claim) record: claim_text, source


@dataclass
class Draft:
    """The findings of one bug: of the expectations entries that share its title (one entry where
    they have none), and what the draft says about them."""

    title: str
    reasons: list[str] = field(default_factory=list)  # its entries' reasons, the one covering most pairs first
    findings: list[Finding] = field(default_factory=list)
    found_in: list[str] = field(default_factory=list)  # environments, a line each
    passed_in: list[str] = field(default_factory=list)
    bisected: list[str] = field(default_factory=list)
    file: str = ""

    def example(self) -> Finding:
        """The finding the draft runs and shows: the shortest reproducer of the simplest configuration
        (`Nadam()` before a drawn one with four options), among those that show something when run
        (some records hold only an outline of the steps)."""
        with_code = [f for f in self.findings if f.fields.get("reproducer")] or self.findings

        def rank(f: Finding) -> tuple[bool, int, int, str, str]:
            code, configuration = str(f.fields.get("reproducer") or ""), str(f.fields.get("configuration") or "")
            shows = re.search(r"\bprint\(|\bassert\b|\braise\b", code)
            return not shows, len(configuration), len(code), f.optimizer, f.claim

        return min(with_code, key=rank)


@dataclass
class Ran:
    """A reproducer's run: its exit status (None: timed out), output (stdout and stderr) and time."""

    returncode: int | None
    output: str
    seconds: float


def run_reproducer(code: str, timeout: float = REPRODUCER_TIMEOUT_S) -> Ran:
    """`code` run by this interpreter in a fresh temporary folder (it may write files), TensorFlow's
    notices silenced, as a user would run the pasted script."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="keras-upstream-") as folder:
        script = Path(folder) / "reproducer.py"
        script.write_text(code, encoding="utf-8")
        # a session of its own, so that a timeout also ends the worker processes a script starts
        with subprocess.Popen([sys.executable, str(script)], cwd=folder, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, errors="replace",
                              start_new_session=hasattr(os, "killpg")) as proc:
            try:
                out, _ = proc.communicate(timeout=timeout)
                returncode: int | None = proc.returncode
            except subprocess.TimeoutExpired:
                if hasattr(os, "killpg"):
                    os.killpg(proc.pid, signal.SIGKILL)
                else:
                    proc.kill()
                out, returncode = proc.communicate()[0], None
    return Ran(returncode, (out or "").replace(folder, "."), time.monotonic() - start)


def excerpt(text: str, head: int = HEAD_LINES, tail: int = TAIL_LINES, chars: int = CHARS) -> str:
    """`text`'s first `head` and last `tail` lines (what a script prints first, and a traceback's end),
    each part cut to about `chars` characters at a line's end, saying what was left out between."""
    lines = text.rstrip("\n").split("\n")
    if len(lines) <= head + tail and len(text) <= 2 * chars:
        return "\n".join(lines)
    first, last = "\n".join(lines[:head]), "\n".join(lines[-tail:])
    if len(first) > chars:
        first = first[:chars].rpartition("\n")[0] or first[:chars]
    if len(last) > chars:
        last = last[-chars:].partition("\n")[2] or last[-chars:]
    left = len(lines) - first.count("\n") - last.count("\n") - 2
    return f"{first}\n[... {f'{left} line(s)' if left > 0 else 'part of a long line'} left out ...]\n{last}"


def keras_in_use() -> str | None:
    """The Keras this interpreter imports, with its backend and the backend library's version; None
    where Keras is not installed (or cannot be imported)."""
    keras = _keras()
    if keras is None:
        return None
    config = getattr(keras, "config", None)  # Keras 2 has no keras.config: TensorFlow only
    backend = config.backend() if config is not None else "tensorflow"
    from importlib.metadata import PackageNotFoundError, version

    libraries = []
    for name in BACKEND_LIBRARIES.get(backend, ()):
        try:  # the imported module's own version: its distribution may be another (tensorflow-cpu)
            found = getattr(sys.modules.get(name), "__version__", None) or version(name)
            libraries.append(f", {LIBRARIES[name]} {found}")
        except PackageNotFoundError:
            pass
    return f"Keras {keras.__version__}, backend {backend}{''.join(libraries)}"


def _keras() -> Any:
    """keras, imported only where it is installed (importing it costs seconds; a results file is
    read anywhere)."""
    if importlib.util.find_spec("keras") is None:
        return None
    try:
        return importlib.import_module("keras")
    except Exception:  # a broken install: the draft just quotes no docstring
        return None


def argument_paragraph(doc: str, name: str) -> str | None:
    """The paragraph of argument `name` in a Google-style docstring's `Args:` section (its line and
    the lines indented under it, joined into one line), None if the docstring has none."""
    lines = doc.splitlines()
    for i, line in enumerate(lines):
        found = re.match(rf"(\s*){re.escape(name)}(\s*\([^)]*\))?:\s", line + " ")
        if not found:
            continue
        indent = len(found.group(1))
        text = [line.strip()]
        for more in lines[i + 1:]:
            if more.strip() and len(more) - len(more.lstrip()) <= indent:
                break
            text.append(more.strip())
        return " ".join(t for t in text if t)
    return None


def documented_arguments(optimizer: str, configuration: str, mentioned: str = "") -> list[tuple[str, str]]:
    """(class, paragraph) for the arguments `configuration` (an optimizer as code) names that
    `mentioned` (the entry's reason and the message) names too, outside code, so the ones the bug is
    about: from the docstrings of the classes it builds, then `optimizer`'s, then
    keras.optimizers.Optimizer's. [] where Keras cannot be imported."""
    names = list(dict.fromkeys(re.findall(r"\b([A-Za-z_]\w*)=(?!=)", configuration)))
    for _ in range(2):  # an argument named only inside a call's code, SGD(learning_rate=0.1, ...), is not the subject
        mentioned = re.sub(r"[\w.]+\([^()]*\)", "", mentioned)
    names = [n for n in names if re.search(rf"\b{re.escape(n)}\b", mentioned)]
    keras = _keras() if names else None
    if keras is None:
        return []
    classes = [*re.findall(r"keras\.optimizers\.((?:legacy\.)?\w+)\(", configuration), optimizer, "Optimizer"]
    docs = [(label, inspect.getdoc(c) or "") for label, c in map(_optimizer_class, classes) if c is not None]
    out = []
    for name in names:
        found = next(((label, p) for label, doc in docs if (p := argument_paragraph(doc, name))), None)
        if found:
            out.append(found)
    return out


def _optimizer_class(name: str) -> tuple[str, Any]:
    """(how to name it, the class) for a built-in name (`Adam`, `legacy.Adam`) or MODULE:ATTR."""
    try:
        if ":" in name:
            module, _, attr = name.partition(":")
            return name, getattr(importlib.import_module(module), attr)
        obj = importlib.import_module("keras").optimizers
        for part in name.split("."):
            obj = getattr(obj, part)
        return f"keras.optimizers.{name}", obj
    except Exception:  # not importable here: no docstring to quote from it
        return name, None


_URL = re.compile(r"(?:https?://|(?<![\w./])(?=github\.com/))[^\s)\]'\"<>,;]+")
_REF = re.compile(r"(?<![\w./-])([\w.-]+/[\w.-]+)#(\d+)\b")


def related_threads(*texts: str) -> list[str]:
    """The URLs (`github.com/...` without a scheme too) and `owner/repo#N` references in `texts`, each
    once, a reference as its GitHub link (GitHub redirects /issues/N to a pull request)."""
    out: dict[str, str] = {}
    for text in texts:
        for url in _URL.findall(text or ""):
            url = url.rstrip(".:")
            url = url if "://" in url else f"https://{url}"
            m = re.match(r"https://github\.com/([\w.-]+/[\w.-]+)/(?:issues|pull)/(\d+)$", url)
            out.setdefault(f"{m.group(1)}#{m.group(2)}" if m else url, url)
        for repo, n in _REF.findall(text or ""):
            out.setdefault(f"{repo}#{n}", f"https://github.com/{repo}/issues/{n}")
    return [url if key == url else f"{key}: {url}" for key, url in out.items()]


def split_reason(reason: str) -> tuple[str, str]:
    """The entry's reason as (what happens, what was found upstream: its `Upstream: ...` sentences)."""
    what, sep, upstream = reason.partition(" Upstream: ")
    return what.strip(), f"Upstream: {upstream.strip()}" if sep else ""


def _block(text: str, lang: str = "") -> str:
    fence = "````" if "```" in text else "```"
    return f"{fence}{lang}\n{text.rstrip()}\n{fence}"


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.strip().split("\n"))


def affected(findings: list[Finding]) -> list[str]:
    """The findings as Markdown table rows: one per claim and set of conditions, its optimizers."""
    by_pair: dict[tuple[str, str], list[str]] = {}
    for f in findings:
        conditions = by_pair.setdefault((f.claim, f.optimizer), [])
        if f.condition and f.condition not in conditions:
            conditions.append(f.condition)
    rows: dict[tuple[str, str], list[str]] = {}
    for (claim, optimizer), conditions in sorted(by_pair.items()):
        rows.setdefault((claim, ", ".join(conditions) or "-"), []).append(optimizer)
    return [f"| `{c}` | {conds} | {', '.join(opts)} |" for (c, conds), opts in rows.items()]


def markdown(draft: Draft, ran: Ran | None, keras: str | None, documented: list[tuple[str, str]]) -> str:
    """The draft as Markdown: what happens, environment, reproducer and its output, what the docs say,
    what happens instead, what it covers, related threads."""
    f = draft.example()
    described = [split_reason(r) for r in draft.reasons]
    pairs = len({(x.optimizer, x.claim) for x in draft.findings})
    out = [
        f"# {draft.title}",
        "",
        f"<!-- Draft written by `keras-conformance upstream` from keras-optimizer-conformance results; nothing "
        f"was posted. Review it, then file it at {tracker(draft.findings)} -->",
        "",
        described[0][0],
        "",
        *[line for what, _ in described[1:2] for line in ("The same bug, as other checks meet it:", "")],
        *[line for what, _ in described[1:] for line in (f"- {what}", "")],
        f"Found by the keras-optimizer-conformance suite in {pairs} (optimizer, claim) pair(s): see *Affected* below.",
        "",
        "## Environment",
        "",
        "Found in:",
        "",
        *[f"- {line}" for line in draft.found_in],
        "",
    ]
    if draft.passed_in:
        out += ["Passed in:", "", *[f"- {line}" for line in draft.passed_in], ""]
    if draft.bisected:
        out += [*[f"- {line}" for line in draft.bisected], ""]
    condition = f", condition `{f.condition}`" if f.condition else ""
    code = str(f.fields.get("reproducer") or "")
    out += ["## Standalone code to reproduce", ""]
    if not code:
        out += [f"The suite recorded no standalone script for `{f.optimizer}`, claim `{f.claim}`{condition}: the "
                "configuration and the failure under *Actual behaviour* describe the case.", ""]
    else:
        out += [f"`{f.optimizer}`, claim `{f.claim}`{condition} (needs only keras and numpy):", "",
                _block(code, "python"), ""]
    if code and ran is None:
        out += ["Not run here (`--no-run`): *Actual behaviour* below is what the suite observed.", ""]
    elif ran is not None:
        status = "timed out" if ran.returncode is None else f"exit status {ran.returncode}"
        on = keras or "Keras could not be imported"
        out += [f"Output (Python {sys.version.split()[0]}, {on}; {status}, {ran.seconds:.1f} s):", "",
                _block(excerpt(ran.output) or "(no output)"), ""]
        if not ran.output.strip() and ran.returncode == 0:
            out += ["It printed nothing: this script outlines the check's steps rather than showing the failure; "
                    "*Actual behaviour* below is what the suite observed.", ""]
    out += ["## Expected behaviour", "", "What the suite checked:", "", _quote(str(f.record.get("claim_text", ""))), ""]
    if f.record.get("source"):
        out += [f"Its source: {f.record['source']}", ""]
    if f.fields.get("link"):
        out += [f"Documented at {f.fields['link']}", ""]
    for where, paragraph in documented:
        out += [f"From the docstring of `{where}`:", "", _quote(paragraph), ""]
    out += ["## Actual behaviour", ""]
    if f.fields.get("configuration"):
        out += [f"With `{f.fields['configuration']}` ({f.fields.get('dtype') or 'float32'} variables):", ""]
    out += [_block(str(f.fields.get("message") or "(no message)")), ""]
    if f.fields.get("counterexample"):
        out += ["The failing example (hypothesis's minimal one, or the condition's fixed case):", "",
                _block(str(f.fields["counterexample"])), ""]
    out += ["## Affected", "", "| claim | conditions | optimizers |", "| --- | --- | --- |", *affected(draft.findings)]
    out += [""]
    threads = related_threads(*draft.reasons, *sorted({str(x.record.get("source", "")) for x in draft.findings}))
    out += ["## Related upstream threads", ""]
    for note in dict.fromkeys(note for _, note in described if note):
        out += [note, ""]
    out += [*([f"- {t}" for t in threads] or ["None named in the entry's reason or the claim's source."]), ""]
    return "\n".join(out)
