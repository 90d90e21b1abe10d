// Filled by a later issue; this package exports nothing yet.
export {}
