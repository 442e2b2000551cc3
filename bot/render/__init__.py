"""Renderers: a :class:`bot.reply.Reply` into what a platform shows. Escaping and splitting live here."""
