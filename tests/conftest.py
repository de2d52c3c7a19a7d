"""Settings for the suite's own tests: few examples, reproducible, no shrinking needed."""

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# the worked example of a user's project (docs/your-optimizer.md), importable as it is once installed
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples" / "momentum_sgd" / "src"))

from hypothesis import HealthCheck, Phase, settings  # noqa: E402

settings.register_profile(
    "selftest",
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
settings.load_profile("selftest")
