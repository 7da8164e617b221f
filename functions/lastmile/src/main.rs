use clap::Parser;
use lastmile::cli::{AddressCommand, BenchCommand, Cli, Command, JobCommand, ShopifyCommand};

// Validating an address builds a few dozen short strings; mimalloc (see `lastmile-alloc`) serves them faster
// than the system allocator (`lastmile bench address` measures it), for some more resident memory (about 74 MB
// against 58 MB).
#[global_allocator]
static ALLOCATOR: lastmile_alloc::Mimalloc = lastmile_alloc::Mimalloc;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let outcome: Result<i32, Box<dyn std::error::Error>> = match cli.command {
        Command::Dev { listen, data_dir } => tokio::runtime::Runtime::new()
            .map_err(Into::into)
            .and_then(|rt| {
                rt.block_on(lastmile::dev::run(lastmile::dev::DevOptions { listen, data_dir }))
                    .map_err(|e| e.to_string().into())
            })
            .map(|()| 0),
        Command::Address { command: AddressCommand::Validate(args) } => lastmile::cli::address_validate(&args),
        Command::Bench { command: BenchCommand::Address(args) } => lastmile::bench::run(&args).map(|()| 0),
        Command::Bench { command: BenchCommand::Accuracy(args) } => lastmile::bench::accuracy::run(&args).map(|()| 0),
        Command::Bench { command: BenchCommand::Edge(args) } => lastmile::bench::edge::run(&args).map(|()| 0),
        Command::Bench { command: BenchCommand::Quote(args) } => lastmile::bench::quote::run(&args).map(|()| 0),
        Command::Bench { command: BenchCommand::Duty(args) } => lastmile::bench::duty::run(&args).map(|()| 0),
        Command::Quote(args) => lastmile::cli::quote(&args),
        Command::Duty(args) => lastmile::duty::run(&args),
        Command::Tenant(args) => lastmile::tenant::run(&args),
        Command::Shopify { command: ShopifyCommand::RegisterCarrierService(args) } => {
            lastmile::cli::register_carrier_service(&args)
        }
        Command::Simulate(args) => lastmile::simulation::main(&lastmile::simulation::SimulateOptions {
            data_dir: args.data_dir,
            tenant: args.tenant,
            start: args.start,
            days: args.days,
            orders_per_day: args.orders_per_day,
            seed: args.seed,
        }),
        Command::Job { command: JobCommand::Claims(args) } => lastmile::cli::job_claims(&args),
        Command::Job { command: JobCommand::Reconcile(args) } => lastmile::invoices::cli(&args),
        Command::Openapi => serde_json::to_string_pretty(&lastmile::openapi::document())
            .map(|s| println!("{s}"))
            .map(|()| 0)
            .map_err(Into::into),
    };
    match outcome {
        Ok(code) => std::process::ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            eprintln!("lastmile: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
