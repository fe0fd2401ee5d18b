"""Seeded simulator of the outside world: the source systems the hub ingests from.

``demo.world.generate`` writes a CRM (served by ``demo.crm_server``), an ERP database,
social and IoT landing folders and the ground truth; ``demo.world.advance`` moves the
world forward. Nothing here imports the pipeline: the simulator stands for systems the
hub does not own.
"""
