"""Local fakes of outside services that speak their real protocols (tests, `make run`)."""
