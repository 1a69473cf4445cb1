"""Test-side lab machinery: a real Docker engine and local stand-ins for the lab's images."""
