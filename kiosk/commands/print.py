"""``onestop print``: test page, journal, retry and reprint of print jobs."""

from __future__ import annotations

import json
import sys

from ..runtime import config_from_args, open_store_from

EXIT_FAILED = 2


def register(sub, parents):
    p = sub.add_parser("print", parents=parents, help="printer test page, print journal, retry and reprint",
                       description="Print a test page, list the print journal, retry a failed job or reprint "
                                   "any job as a marked copy.")
    psub = p.add_subparsers(dest="print_command", metavar="SUBCOMMAND")
    psub.required = True
    t = psub.add_parser("test", parents=parents, help="print the technician test page",
                        description="Print the test page (profile, code page, Chinese samples, barcode, QR, cut). "
                                    "Exits 2 with one line when the printer is out of paper, open, offline "
                                    "or unreachable.")
    t.add_argument("--printer", metavar="URL", help="printer URL (default: the configured receipt printer)")
    t.add_argument("--role", default="receipt_printer", choices=("receipt_printer", "label_printer"))
    t.set_defaults(func=run_test)
    j = psub.add_parser("journal", parents=parents, help="list print jobs, newest first",
                        description="List print jobs, newest first.")
    j.add_argument("--state", choices=("queued", "printing", "printed", "failed"))
    j.add_argument("--limit", type=int, default=20)
    j.add_argument("--json", action="store_true")
    j.set_defaults(func=run_journal)
    for name, helptext in (("retry", "send a failed job again (never one that printed)"),
                           ("reprint", "print any job again as a marked copy (副本 COPY)")):
        r = psub.add_parser(name, parents=parents, help=helptext, description=helptext.capitalize() + ".")
        r.add_argument("job", metavar="JOB", help="job ID (or a unique prefix)")
        r.add_argument("--printer", metavar="URL", help="another printer URL (reprint only)")
        r.set_defaults(func=run_retry if name == "retry" else run_reprint)


def _quiet_stderr_logs() -> None:
    """The journal logs each failure for the technician (log file); on the terminal the command
    itself prints the one line, so those records are kept off stderr."""
    import logging

    quiet = ("pos.printing", "drivers.escpos", "drivers.zpl")
    for h in logging.getLogger().handlers:
        if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler):
            h.addFilter(lambda rec: not rec.name.startswith(quiet))


def _journal(args):
    _quiet_stderr_logs()
    config = config_from_args(args)
    from pos.printing import PrintJournal

    store = open_store_from(args, config)
    return PrintJournal.from_config(store, config), config, store


def _report(outcome) -> int:
    if outcome.ok:
        print(f"printed: job {outcome.job_id} ({outcome.nbytes} bytes)")
        return 0
    print(f"onestop print: {outcome.technician}", file=sys.stderr)
    return EXIT_FAILED


def run_test(args) -> int:
    from pos.documents import Site, TestPageData, printer_test_label, printer_test_page
    from pos.ids import utcnow_iso

    journal, config, store = _journal(args)
    try:
        url = args.printer or config.devices.get(args.role, "")
        if not url:
            print(f"onestop print: no --printer given and no {args.role} configured", file=sys.stderr)
            return EXIT_FAILED
        site = Site(hospital_name=config.site_name, timezone=config.get("site", "timezone"),
                    counter_window=str(config.get("site", "counter_window")),
                    lang="zh-Hant" if config.language == "zh-Hant" else "zh-Hans")
        from drivers.registry import check_url, scheme_module

        u = check_url(url, args.role)
        opts = u.options_for(scheme_module(u).OPTIONS, scheme_module(u).GRAMMAR)
        model, caps, code_page = u.scheme, (), "-"
        if u.scheme.startswith("escpos"):
            from drivers.escpos.printer import make_profile

            prof = make_profile(u, opts)          # BadDeviceURL for an unknown profile
            model = prof["model"]
            code_page = "GB18030 (FS &)" if prof["chinese"] == "native" else "CP437 + CJK raster"
            caps = tuple(f"{k}={prof[k]}" for k in ("chinese", "qr", "width_px", "status", "drawer", "cut"))
        data = TestPageData(printer_url=url, profile=str(opts.get("profile", u.scheme)), model=model,
                            code_page=code_page, capabilities=caps, printed_at=utcnow_iso())
        layout = printer_test_label(site, data) if args.role == "label_printer" else printer_test_page(site, data)
        return _report(journal.print("test_page", layout, args.role, url, ref="test"))
    finally:
        store.close()


def run_journal(args) -> int:
    journal, _config, store = _journal(args)
    try:
        rows = journal.journal(args.limit, args.state)
        if args.json:
            print(json.dumps(rows, ensure_ascii=False, indent=2))
            return 0
        if not rows:
            print("(no print jobs)")
        for r in rows:
            mark = f" COPY#{r['copy_no']} of {r['reprint_of'][:13]}" if r["copy_no"] else ""
            unc = " UNCERTAIN" if r["uncertain"] else ""
            err = f"  - {r['last_error']}" if r["last_error"] and r["state"] != "printed" else ""
            print(f"{r['job_id']}  {r['created_at'][:19]}  {r['state']:<8}{unc} {r['kind']:<16} {r['ref']}{mark}{err}")
        return 0
    finally:
        store.close()


def run_retry(args) -> int:
    journal, _config, store = _journal(args)
    try:
        return _report(journal.retry(journal.find(args.job)["job_id"]))
    finally:
        store.close()


def run_reprint(args) -> int:
    journal, _config, store = _journal(args)
    try:
        return _report(journal.reprint(journal.find(args.job)["job_id"], printer_url=args.printer))
    finally:
        store.close()
