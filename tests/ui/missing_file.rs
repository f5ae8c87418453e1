netc::net!(include "specs/does_not_exist.net");

fn main() {}
