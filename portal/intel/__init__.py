"""KEV and EPSS: which vulnerabilities are exploited in the wild, and how likely they are to be."""
