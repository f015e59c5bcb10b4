"""Start-up stays light: parsing the command line imports no GUI, database, web or vision library.

Every command module imports its heavy dependencies inside its run function, so `onestop --help`
and the kiosk's first frame do not pay for numpy, OpenCV, pyscard, starlette or psycopg.
"""

import subprocess
import sys

HEAVY = ["kivy", "sqlite_utils", "numpy", "cv2", "smartcard", "starlette", "uvicorn", "httpx", "psycopg",
         "escpos", "PIL", "zxingcpp", "serial"]


def test_building_the_parser_imports_nothing_heavy():
    code = ("import sys; from kiosk.cli import build_parser; build_parser(); "
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"imported at parse time: {out.stdout.strip()}"
