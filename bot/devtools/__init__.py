"""Development tools: emulators and drivers for tests, demos and benchmarks.

Nothing in the product imports this package. It may import the product (for example
`bot.clock`), never the other way round, so a deployment could drop it without effect.
"""
