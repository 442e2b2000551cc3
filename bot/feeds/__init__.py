"""Views of the catalogue that people use outside the chat: calendar feeds (``calendar``) and charts
(``chart``), each cached per data version. ``icalendar`` and ``matplotlib`` are imported only when a
feed or a chart is first built, so commands that build neither never pay for them."""
