"""The post-mortem as the incident channel's canvas: conversion, sections, refresh plans.

``markdown`` turns the draft into canvas markdown and splits it into sections; ``plan``
decides, section by section, what a refresh writes and what it leaves to the people who
edited it. Both are pure; the Slack calls live in ``bot.canvas.sync``.
"""
