"""The command-line shell: parse input, call the library, render output. No logic of its own."""
