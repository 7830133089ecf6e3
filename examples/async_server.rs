//! Guests inside an async server: a tokio TCP server that answers each request (one
//! line: an item name) with a fresh sandboxed guest, many at once, while the guest's
//! host function awaits an inventory service over a channel.
//!
//! `cargo run --example async_server --features async [requests]`
//!
//! The guest (`examples/async_handler.wat`) reads the item from stdin and calls
//! `env.stock`, an `async fn` host function: it sends the question to the inventory
//! task, which answers after a (simulated) 20 ms lookup. While it waits, the tokio
//! worker runs other requests: 100 requests take about as long as a few lookups, not
//! 100 of them.

use lucet_wasi::{
    hostcall, hostcalls, Capture, Engine, EngineConfig, Input, Module, Output, WasiInstance,
};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

/// A question for the inventory task: an item, and where to send its count.
type Question = (String, oneshot::Sender<u32>);

/// The embedder data of each guest: its line to the inventory task.
struct Inventory(mpsc::Sender<Question>);

/// How many `item`s are in stock: asked of the inventory task, awaited without blocking.
#[hostcall]
async fn stock(inventory: &mut Inventory, item: String) -> Result<u32, String> {
    let (answer, count) = oneshot::channel();
    inventory
        .0
        .send((item, answer))
        .await
        .map_err(|_| "the inventory is closed")?;
    count
        .await
        .map_err(|_| "the inventory did not answer".into())
}

/// The inventory service: answers each question after a simulated lookup.
fn inventory() -> mpsc::Sender<Question> {
    let (tx, mut rx) = mpsc::channel::<Question>(64);
    tokio::spawn(async move {
        while let Some((item, answer)) = rx.recv().await {
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                let count = item.bytes().map(u32::from).sum::<u32>() % 50;
                let _ = answer.send(count);
            });
        }
    });
    tx
}

/// Serves one connection: one request line, one guest, its stdout as the response.
async fn handle(
    conn: TcpStream,
    module: Module,
    inventory: mpsc::Sender<Question>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let (read, mut write) = conn.into_split();
    let mut request = String::new();
    BufReader::new(read).read_line(&mut request).await?;
    let out = Capture::new();
    let result = WasiInstance::builder()
        .module(&module)
        .data(Inventory(inventory))
        .stdin(Input::bytes(request))
        .stdout(Output::capture(&out))
        .timeout(Duration::from_secs(5))
        .run_async("_start")
        .await;
    match result {
        Ok(_) => write.write_all(&out.bytes()).await?,
        Err(e) => write.write_all(format!("error: {e}\n").as_bytes()).await?,
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let requests: usize = match std::env::args().nth(1) {
        Some(n) => n.parse()?,
        None => 100,
    };
    // Compiled once, with the interruption checks async runs yield at; the host
    // function is linked once for all requests.
    let engine = Engine::shared(&EngineConfig::default().timeout_capable(true))?;
    let module = Module::from_file(
        &engine,
        concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/async_handler.wat"),
    )?
    .with_hostcalls(&hostcalls![stock])?;

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let inventory = inventory();
    // The server: a task per connection, each running its own guest.
    tokio::spawn(async move {
        loop {
            let Ok((conn, _)) = listener.accept().await else {
                continue;
            };
            let (module, inventory) = (module.clone(), inventory.clone());
            tokio::spawn(async move {
                if let Err(e) = handle(conn, module, inventory).await {
                    eprintln!("request failed: {e}");
                }
            });
        }
    });

    // The clients: all requests at once.
    let items = ["apples", "pears", "plums", "cherries", "quinces"];
    let start = Instant::now();
    let clients: Vec<_> = (0..requests)
        .map(|i| {
            let item = items[i % items.len()];
            tokio::spawn(async move {
                let mut conn = TcpStream::connect(addr).await?;
                conn.write_all(format!("{item}\n").as_bytes()).await?;
                let mut response = String::new();
                conn.read_to_string(&mut response).await?;
                Ok::<_, std::io::Error>(response)
            })
        })
        .collect();
    for (i, client) in clients.into_iter().enumerate() {
        let response = client.await??;
        if i < items.len() {
            print!("{response}");
        }
        assert!(response.ends_with(" in stock\n"), "{response}");
    }
    println!(
        "{requests} requests, each its own guest awaiting a 20 ms lookup, in {:?}",
        start.elapsed()
    );
    Ok(())
}
