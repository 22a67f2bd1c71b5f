"""SBOMs of the demo catalog's images, written for the demo (CycloneDX 1.5 and SPDX 2.3, as syft writes)."""
