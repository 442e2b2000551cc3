"""Building the runtime from a config: :mod:`.context` (the command context, light) and :mod:`.runtime`
(``kazkor run`` and ``kazkor post-due``, with the platform libraries). Raises; never prints or exits."""
