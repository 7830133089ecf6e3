//! Copies stdin to stdout in upper case, and reports on stderr how much it read.
use std::io::{Read, Write};

fn main() {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).expect("read stdin");
    print!("{}", input.to_uppercase());
    std::io::stdout().flush().unwrap();
    eprintln!("read {} bytes", input.len());
}
