"""OSV advisories the demo ships, written by the Portal team for the packages in the demo SBOMs.

Modelled on real public advisories (the CVE ids are their aliases) but not copies of any feed: they name
the binary packages the demo SBOMs list, since those carry no source-package qualifier. Their `modified`
times are fixed, so importing them again changes nothing.
"""
