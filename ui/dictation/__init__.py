"""Dictation screens: the recorder, the chart's recordings, the dictation list, the upload
queue and its status bar count, the keyboard page."""
