"""Clinical notes: the chart's Notes section, the editor, history, merge and PDF."""
