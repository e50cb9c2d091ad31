"""Entry point of the NLU service: Rasa's own CLI (`run`, `train`), in Rasa's virtual environment.

Runs under .venv-nlu's Python 3.10 and imports nothing from the bot. It differs from the
plain `rasa` command in three ways:
- telemetry is off whatever the environment says;
- `run` takes its token from RASA_AUTH_TOKEN, so it never shows in `ps` (a command line is
  readable by every user of the machine; the environment only by its owner);
- skops.io is imported before Rasa. skops 0.9 (pinned by Rasa 3.6.21) scans every loaded
  module at import time; imported lazily, after TensorFlow, that scan alone takes 6-8 s of
  the service's start-up. Imported first, it takes about one second.
"""

import os
import sys

os.environ["RASA_TELEMETRY_ENABLED"] = "false"

import skops.io  # noqa: E402,F401  (see the module docstring)
from rasa.__main__ import main  # noqa: E402

if __name__ == "__main__":
    sys.argv[0] = "rasa"
    token = os.environ.pop("RASA_AUTH_TOKEN", None)
    if token and sys.argv[1:2] == ["run"]:
        # Python's own copy: /proc/…/cmdline is unchanged. One word with "=": a token may
        # start with "-" (token_urlsafe's do one time in 64) and must not read as an option.
        sys.argv.append(f"--auth-token={token}")
    main()
