"""Operating the bot: health (:mod:`bot.ops.health`), metrics (:mod:`bot.ops.metrics`), their HTTP routes
(:func:`bot.ops.routes.add_ops_routes`) and ``kazkor doctor`` (:mod:`bot.ops.doctor`).

Kept import-light: each sub-module pulls in only what it needs.
"""
