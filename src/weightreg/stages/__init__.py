"""One module per DVC stage: parse paths, call the library, write files."""
