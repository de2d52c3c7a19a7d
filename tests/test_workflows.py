"""The GitHub Actions workflows agree with tox.ini: parsed, not run.

Each check is a function returning a list of problems; the tests run every check on the real
files, then feed each check a broken copy and expect it to complain, so that none passes vacuously.
"""

from __future__ import annotations

import configparser
import copy
import fnmatch
import inspect
import re
from pathlib import Path
from typing import Any, Callable

import pytest
import tomllib
import yaml

from conformance.tools.matrix import ENVS
from conformance.tools.matrix_check import expand, setting

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
TOX = ROOT / "tox.ini"
Workflow = dict[str, Any]


def load_workflow(text: str) -> Workflow:
    """A workflow as GitHub reads it: YAML 1.1 parses the key `on` as True."""
    wf = yaml.safe_load(text)
    if True in wf:
        wf["on"] = wf.pop(True)
    return wf


def load_tox(text: str) -> configparser.ConfigParser:
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read_string(text)
    return cfg


def envlist(tox: configparser.ConfigParser) -> list[str]:
    """tox's envlist, generative names (`keras3-tf{216,217}`) expanded."""
    return expand(tox.get("tox", "envlist"))


def tox_envs(tox: configparser.ConfigParser) -> list[str]:
    """Every env tox knows: the envlist's (which share [testenv]) and those with a section."""
    sections = [s.removeprefix("testenv:") for s in tox.sections() if s.startswith("testenv:")]
    return list(dict.fromkeys(envlist(tox) + sections))


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job.get("steps") or []


def matrix_envs(job: dict[str, Any]) -> list[str]:
    m = (job.get("strategy") or {}).get("matrix") or {}
    return list(m.get("env") or []) + [i["env"] for i in m.get("include") or [] if i.get("env") not in m.get("env", [])]


def tox_runs(job: dict[str, Any]) -> list[str]:
    """Every environment a job's steps run with `tox -e`, ${{ matrix.env }} expanded."""
    out = []
    for s in steps(job):
        for arg in re.findall(r"\btox\s+(?:r(?:un)?\s+)?-e\s+(\$\{\{[^}]*\}\}|\S+)", str(s.get("run", ""))):
            envs = matrix_envs(job) if re.fullmatch(r"\$\{\{\s*matrix\.env\s*\}\}", arg) else arg.split(",")
            out += envs
    return out


def uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in steps(job) if str(s.get("uses", "")).split("@")[0] == action]


def result_jobs(wf: Workflow) -> dict[str, dict[str, Any]]:
    """Jobs that run a conformance environment (any tox env but `report`)."""
    return {n: j for n, j in wf["jobs"].items() if set(tox_runs(j)) - {"report"}}


def self_hosted(job: dict[str, Any]) -> bool:
    labels = job.get("runs-on")
    return "self-hosted" in (labels if isinstance(labels, list) else [labels])


def always(step_or_job: dict[str, Any]) -> bool:
    return bool(re.search(r"\b(always|!\s*cancelled)\(\)", str(step_or_job.get("if", ""))))


# --- the checks: each returns its problems -----------------------------------------------------


def check_jobs(wf: Workflow) -> list[str]:
    out = []
    for name, job in wf.get("jobs", {}).items():
        out += [f"job {name}: no {key}" for key in ("runs-on", "steps") if not job.get(key)]
    return out


def check_actions_pinned(wf: Workflow) -> list[str]:
    return [
        f"job {name}: `uses: {s['uses']}` is not pinned to a major version (@vN) or a commit"
        for name, job in wf["jobs"].items()
        for s in steps(job)
        if "uses" in s and not re.fullmatch(r"[\w.-]+/[\w./-]+@(v\d+(\.\d+)*|[0-9a-f]{40})", s["uses"])
    ]


def check_tox_envs_exist(wf: Workflow, tox: configparser.ConfigParser) -> list[str]:
    known = set(tox_envs(tox))
    return [
        f"job {n}: `tox -e {e}` but tox.ini has no [testenv:{e}]"
        for n, j in wf["jobs"].items()
        for e in tox_runs(j)
        if e not in known
    ]


def runs_on(job: dict[str, Any], event: str) -> bool:
    """Whether a job runs on `event`: its `if:` names the events it runs on (`github.event_name ==
    'x' || ...`); a job without one runs on every event."""
    named = re.findall(r"github\.event_name\s*==\s*'(\w+)'", str(job.get("if", "")))
    return not named or event in named


def hosted_runs(wf: Workflow, event: str) -> list[str]:
    """The environments the hosted jobs run on `event`."""
    return [e for j in result_jobs(wf).values() if not self_hosted(j) and runs_on(j, event) for e in tox_runs(j)]


def check_matrix(wf: Workflow, tox: configparser.ConfigParser) -> list[str]:
    """Nightly, the hosted jobs run exactly tox's envlist (but `report`); every other env runs somewhere."""
    hosted, want = hosted_runs(wf, "schedule"), [e for e in envlist(tox) if e != "report"]
    out = [] if sorted(hosted) == sorted(want) else [f"nightly the matrix runs {sorted(hosted)}, not envlist {want}"]
    ran = {e for j in wf["jobs"].values() for e in tox_runs(j)}
    return out + [f"tox env {e} is run by no job" for e in tox_envs(tox) if e not in ran]


def check_pull_requests(wf: Workflow) -> list[str]:
    """Pull requests and pushes run the table's small fixed set (`pr`), not the whole range."""
    want = sorted(e.name for e in ENVS if e.pr)
    return [
        f"on {event} the matrix runs {sorted(hosted_runs(wf, event))}, the table's pull-request set is {want}"
        for event in ("pull_request", "push")
        if sorted(hosted_runs(wf, event)) != want
    ]


def torch_envs(tox: configparser.ConfigParser) -> set[str]:
    """The tox envs that install torch: through an extra of pyproject.toml, a dep, or a requirements
    file a dep names (`-r {toxinidir}/constraints/{envname}.txt`)."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    out = set()
    for env in tox_envs(tox):
        names = [n for line in setting(tox, env, "extras") for n in re.split(r"[\s,]+", line)]
        reqs = [r for n in names for r in extras.get(n, [])]
        for dep in setting(tox, env, "deps"):
            path = dep.removeprefix("-r").strip().replace("{toxinidir}", str(ROOT)).replace("{envname}", env)
            reqs += Path(path).read_text().splitlines() if dep.startswith("-r") else [dep]
        if any(re.match(r"torch\b", r) for r in reqs):
            out.add(env)
    return out


def check_torch_index(wf: Workflow, tox: configparser.ConfigParser) -> list[str]:
    """Envs installing torch on hosted runners get the PyTorch CPU index (not the CUDA wheels)."""
    out = []
    for name, job in result_jobs(wf).items():
        if self_hosted(job):
            continue
        include = {i.get("env"): i for i in ((job.get("strategy") or {}).get("matrix") or {}).get("include") or []}
        for env in sorted(torch_envs(tox) & set(tox_runs(job))):
            url = str((job.get("env") or {}).get("PIP_EXTRA_INDEX_URL", ""))
            key = re.fullmatch(r"\$\{\{\s*matrix\.([\w-]+)\s*\}\}", url)
            if key:
                url = str(include.get(env, {}).get(key.group(1), ""))
            if url != "https://download.pytorch.org/whl/cpu":
                out.append(
                    f"job {name}: {env} installs torch without PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu"
                )
    return out


def check_gpu(wf: Workflow) -> list[str]:
    gpu = [n for n, j in result_jobs(wf).items() if self_hosted(j) and "gpu" in j["runs-on"]]
    return [] if gpu else ["no result job runs on a self-hosted runner with a `gpu` label"]


def check_uploads(wf: Workflow) -> list[str]:
    """Every result job uploads its reports/<env>.jsonl, failing or not."""
    out = []
    for name, job in result_jobs(wf).items():
        ok = [
            s
            for s in uses(job, "actions/upload-artifact")
            if always(s) and re.search(r"reports/.*\.jsonl", str(s.get("with", {}).get("path")))
        ]
        if not ok:
            out.append(f"job {name}: no upload-artifact step (with if: always()) of its reports/<env>.jsonl")
    return out


def check_shards(wf: Workflow) -> list[str]:
    """A sharded job runs every shard 1..N, passes `--shard ${{ matrix.shard }}/N` and writes each
    shard's results file apart (the report joins them)."""
    out = []
    for name, job in result_jobs(wf).items():
        listed = ((job.get("strategy") or {}).get("matrix") or {}).get("shard")
        if listed is None:
            continue
        runs = " ".join(str(s.get("run", "")) for s in steps(job) if "tox" in str(s.get("run", "")))
        if sorted(listed) != list(range(1, len(listed) + 1)):
            out.append(f"job {name}: shards {listed} are not 1..{len(listed)}")
        if not re.search(rf"--shard \$\{{\{{\s*matrix\.shard\s*\}}\}}/{len(listed)}\b", runs):
            out.append(f"job {name}: its tox run does not pass --shard ${{{{ matrix.shard }}}}/{len(listed)}")
        if not re.search(r"--results [^\n]*\$\{\{\s*matrix\.shard\s*\}\}\S*\.jsonl", runs):
            out.append(f"job {name}: the shards do not write results files of their own")
    return out


def check_report(wf: Workflow) -> list[str]:
    reports = {n: j for n, j in wf["jobs"].items() if "report" in tox_runs(j)}
    if not reports:
        return ["no job runs `tox -e report`"]
    (name, job), out = next(iter(reports.items())), []
    needs = job.get("needs") or []
    needs = [needs] if isinstance(needs, str) else needs
    out += [f"job {name} does not need result job {n}" for n in result_jobs(wf) if n not in needs]
    if not always(job):
        out.append(f"job {name} has no `if: always()`: it would not run when an environment fails")
    downloads = uses(job, "actions/download-artifact")
    if not downloads:
        out.append(f"job {name} downloads no artifacts")
    elif not any(
        d.get("with", {}).get("path") == "reports" and d["with"].get("merge-multiple") is True for d in downloads
    ):
        out.append(
            f"job {name} does not download the results files into reports/ itself (path: reports, merge-multiple: true)"
        )
    patterns = [str(d.get("with", {}).get("pattern") or d.get("with", {}).get("name") or "*") for d in downloads]
    for n, j in result_jobs(wf).items():
        for s in uses(j, "actions/upload-artifact"):
            art = str(s.get("with", {}).get("name", ""))
            for env in tox_runs(j):
                if not any(fnmatch.fnmatch(re.sub(r"\$\{\{\s*matrix\.env\s*\}\}", env, art), p) for p in patterns):
                    out.append(f"job {name} does not download artifact {art!r} of job {n} ({env})")
    for path in ("reports/merged.json", "reports/index.html"):
        if not any(path in str(s.get("with", {}).get("path")) for s in uses(job, "actions/upload-artifact")):
            out.append(f"job {name} does not upload {path}")
    return out


def check_triggers(wf: Workflow) -> list[str]:
    on = wf.get("on") or {}
    out = [f"not triggered by {t}" for t in ("push", "pull_request", "workflow_dispatch", "schedule") if t not in on]
    if "main" not in str((on.get("push") or {}).get("branches")):
        out.append("push does not run on main")
    if not re.search(r"schedule.*thorough", str((wf.get("env") or {}).get("HYPOTHESIS_PROFILE"))):
        out.append("the schedule does not set HYPOTHESIS_PROFILE=thorough")
    return out


def check_results_paths(tox: configparser.ConfigParser) -> list[str]:
    """Every env but `report` writes reports/{envname}.jsonl; `report` merges reports/."""
    out = []
    for env in tox_envs(tox):
        cmd = tox.get(f"testenv:{env}", "commands", fallback=tox.get("testenv", "commands"))
        if env == "report":
            if "conformance.records.merge reports" not in cmd or "--out reports/merged.json" not in cmd:
                out.append("report does not run conformance.records.merge over reports/ into reports/merged.json")
            if not re.search(r"conformance\.report reports .*-o reports/index\.html", cmd):
                out.append("report does not render reports/ into reports/index.html")
        elif not re.search(rf"--results reports/(\{{envname\}}|{re.escape(env)})\.jsonl(\s|$)", cmd):
            out.append(f"{env} does not write reports/{env}.jsonl ({cmd.strip()!r})")
    return out


# --- the tests ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def matrix() -> Workflow:
    return load_workflow((ROOT / ".github/workflows/matrix.yml").read_text())


@pytest.fixture(scope="module")
def tox() -> configparser.ConfigParser:
    return load_tox(TOX.read_text())


def test_on_is_read_as_the_trigger_key():
    assert True in yaml.safe_load("on: push\njobs: {}")
    assert load_workflow("on: push\njobs: {}") == {"on": "push", "jobs": {}}


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_every_workflow_parses_and_every_job_is_complete(path, tox):
    wf = load_workflow(path.read_text())
    assert wf.get("on") and wf.get("jobs"), path
    assert check_jobs(wf) + check_actions_pinned(wf) + check_tox_envs_exist(wf, tox) == []


def test_ci_workflow_runs_ci_run():
    wf = load_workflow((ROOT / ".github/workflows/ci.yml").read_text())
    assert any(s.get("run") == ".ci/run" for j in wf["jobs"].values() for s in steps(j))


def test_the_matrix_workflow_matches_tox_ini(matrix, tox):
    assert {"pr", "nightly", "gpu", "report"} <= matrix["jobs"].keys()
    problems = check_matrix(matrix, tox) + check_pull_requests(matrix) + check_torch_index(matrix, tox)
    problems += check_gpu(matrix) + check_uploads(matrix) + check_report(matrix) + check_triggers(matrix)
    assert problems + check_shards(matrix) == []


def test_every_tox_env_writes_its_own_results_file(tox):
    assert "keras3-gpu" in tox_envs(tox) and "keras3-gpu" not in envlist(tox)
    assert check_results_paths(tox) == []


def _job(name: str) -> Callable[[Workflow], dict[str, Any]]:
    return lambda wf: wf["jobs"][name]


def _step(name: str, action: str) -> Callable[[Workflow], dict[str, Any]]:
    return lambda wf: uses(wf["jobs"][name], action)[0]


BREAKAGES = {  # name: (mutation, check, expected words in a problem)
    "job without runs-on": (lambda wf: _job("pr")(wf).pop("runs-on"), check_jobs, "no runs-on"),
    "job without steps": (lambda wf: _job("report")(wf).pop("steps"), check_jobs, "no steps"),
    "action on a branch": (
        lambda wf: _step("report", "actions/checkout")(wf).update(uses="actions/checkout@main"),
        check_actions_pinned,
        "not pinned",
    ),
    "action unpinned": (
        lambda wf: _step("nightly", "actions/checkout")(wf).update(uses="actions/checkout"),
        check_actions_pinned,
        "not pinned",
    ),
    "unknown tox env": (
        lambda wf: steps(_job("report")(wf)).append({"run": "tox -e keras9"}),
        check_tox_envs_exist,
        "[testenv:keras9]",
    ),
    "env left out": (
        lambda wf: _job("nightly")(wf)["strategy"]["matrix"]["env"].remove("keras3-old"),
        check_matrix,
        "the matrix runs",
    ),
    "nightly on pull requests too": (
        lambda wf: _job("nightly")(wf).pop("if"),
        check_pull_requests,
        "on pull_request the matrix runs",
    ),
    "a pull request runs an env the table does not choose": (
        lambda wf: _job("pr")(wf)["strategy"]["matrix"]["env"].append("keras3-tf218"),
        check_pull_requests,
        "pull-request set",
    ),
    "pushes run nothing": (
        lambda wf: _job("pr")(wf).update({"if": "github.event_name == 'pull_request'"}),
        check_pull_requests,
        "on push",
    ),
    "gpu env not run": (
        lambda wf: _job("gpu")(wf)["strategy"]["matrix"].update(env=["keras3-tf"]),
        check_matrix,
        "keras3-gpu is run by no job",
    ),
    "torch without cpu index": (
        lambda wf: _job("nightly")(wf).pop("env"),
        check_torch_index,
        "keras3-tf218",
    ),
    "torch without cpu index on pull requests": (
        lambda wf: _job("pr")(wf)["env"].update(PIP_EXTRA_INDEX_URL="https://pypi.org/simple"),
        check_torch_index,
        "keras3-torch",
    ),
    "gpu job on a hosted runner": (
        lambda wf: _job("gpu")(wf).update({"runs-on": "ubuntu-latest"}),
        check_gpu,
        "self-hosted",
    ),
    "gpu job without gpu label": (
        lambda wf: _job("gpu")(wf).update({"runs-on": ["self-hosted", "linux"]}),
        check_gpu,
        "gpu",
    ),
    "upload only on success": (
        lambda wf: _step("nightly", "actions/upload-artifact")(wf).pop("if"),
        check_uploads,
        "job nightly",
    ),
    "report needs only the matrix": (
        lambda wf: _job("report")(wf).update(needs=["pr", "gpu"]),
        check_report,
        "result job nightly",
    ),
    "report skipped on failure": (lambda wf: _job("report")(wf).pop("if"), check_report, "always()"),
    "report downloads nothing": (
        lambda wf: steps(_job("report")(wf)).remove(_step("report", "actions/download-artifact")(wf)),
        check_report,
        "downloads no",
    ),
    "report misses an artifact": (
        lambda wf: _step("report", "actions/download-artifact")(wf)["with"].update(pattern="results-keras3-*"),
        check_report,
        "keras2-tf215",
    ),
    "results in subfolders": (
        lambda wf: _step("report", "actions/download-artifact")(wf)["with"].pop("merge-multiple"),
        check_report,
        "merge-multiple",
    ),
    "report not uploaded": (
        lambda wf: _step("report", "actions/upload-artifact")(wf)["with"].update(path="reports/other.json"),
        check_report,
        "merged.json",
    ),
    "html report not uploaded": (
        lambda wf: _step("report", "actions/upload-artifact")(wf)["with"].update(path="reports/merged.json"),
        check_report,
        "index.html",
    ),
    "a shard left out": (
        lambda wf: _job("pr")(wf)["strategy"]["matrix"].update(shard=[1, 2, 3]),
        check_shards,
        "--shard",
    ),
    "shards write one file": (
        lambda wf: steps(_job("nightly")(wf))[-2].update(
            run="tox -e ${{ matrix.env }} -- --shard ${{ matrix.shard }}/4"
        ),
        check_shards,
        "results files of their own",
    ),
    "no nightly run": (lambda wf: wf["on"].pop("schedule"), check_triggers, "schedule"),
    "nightly not thorough": (lambda wf: wf["env"].update(HYPOTHESIS_PROFILE="ci"), check_triggers, "thorough"),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_each_check_catches_its_breakage(breakage, matrix, tox):
    mutate, check, words = BREAKAGES[breakage]
    wf = copy.deepcopy(matrix)
    mutate(wf)
    problems = check(wf, tox) if len(inspect.signature(check).parameters) == 2 else check(wf)
    assert any(words in p for p in problems), problems


@pytest.mark.parametrize(
    "section, words",
    [
        (
            "[testenv:x]\ncommands = pytest conformance --results reports/results.jsonl",
            "x does not write reports/x.jsonl",
        ),
        ("[testenv:x]\ncommands = pytest conformance --results reports/{envname}.jsonl.bak", "x does not write"),
        ("[testenv:report]\ncommands = python -m conformance.records.merge reports", "report does not run"),
        (
            "[testenv:report]\ncommands = python -m conformance.records.merge reports --out reports/merged.json",
            "report does not render",
        ),
    ],
)
def test_results_path_check_catches_a_wrong_path(section, words, tox):
    broken = load_tox(TOX.read_text().split("[testenv:", 1)[0] + section)
    assert any(words in p for p in check_results_paths(broken))
