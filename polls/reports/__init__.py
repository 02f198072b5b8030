"""After the event: the report, the full exports and the recap, all read from `selectors.poll_results`.

`build.event_report` assembles one `EventReport` from the one tally; every renderer (the page and
its PDF, `tables` for CSV and XLSX, `recap` for the narrative) reads that object and nothing else,
so a figure cannot differ between the report, the exports and the recap.
"""
