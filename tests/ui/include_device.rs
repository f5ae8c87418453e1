netc::net!(include "/dev/zero");

fn main() {}
