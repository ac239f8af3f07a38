"""Development package: emulators, the offline demo and what the tests and benchmarks share.

Not part of the product: `pip install .` does not ship it (pyproject's package list names
bot, handlers, scheduler and storage only) and the emulators' library, aiohttp, is the `demo`
extra. Nothing in the product imports it (tests/test_layers.py); it may import the product,
so a deployment drops it without effect. `./dev` installs the extras and runs from the checkout.

- telegram_emulator: a local Bot API server; zalo/: the OA, OAuth and ZNS emulator and driver
- demo/: `./dev demo` (`python -m devtools.demo`)
- hostile_files: odd and hostile XLSX files built byte by byte (tests and bench/bench_uploads.py)
"""
