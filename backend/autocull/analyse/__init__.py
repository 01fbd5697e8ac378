"""Analysis steps: each a pure function of decoded pixels (and faces), no file I/O."""
