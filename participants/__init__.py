"""Participants (一地注册，全国互信): registration at the home exchange, evaluations. A later issue."""
