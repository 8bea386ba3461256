/* libarchive (tar and gzip layers) for Swift: its API is plain functions. */
#include <archive.h>
#include <archive_entry.h>
