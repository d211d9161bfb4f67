"""The byte-level fast paths of tables/: block parsing, block texts, row text and float printing, read-ahead."""
