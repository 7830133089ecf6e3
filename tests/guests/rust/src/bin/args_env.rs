//! Prints its arguments, then the variable GREETING, then every environment variable.
fn main() {
    for (i, arg) in std::env::args().enumerate() {
        println!("arg[{i}]={arg}");
    }
    match std::env::var("GREETING") {
        Ok(v) => println!("GREETING={v}"),
        Err(_) => println!("GREETING is unset"),
    }
    for (k, v) in std::env::vars() {
        println!("env {k}={v}");
    }
}
