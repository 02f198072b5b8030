"""Static files for production: hashed, compressed, and ES module imports rewritten to hashed names."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    # Pages load one module that imports the shared ones (./live.js): rewrite those imports too,
    # or browsers would keep stale shared modules across deploys.
    support_js_module_import_aggregation = True
