"""Demands (一地提出，全国响应): posting, broadcast, matching, responses. Built by a later issue."""
