use castellan::config::{AdminCommand, AuditCommand, Cli, Command, Config, LedgerCommand, ServeArgs};
use clap::Parser;
use tracing_subscriber::EnvFilter;

/// mimalloc instead of glibc's malloc: a request allocates many small, short-lived objects, and
/// glibc spends a measured ~12% of the gateway authorizer's CPU in malloc/free/consolidation.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Errors are for the operator: one line with its causes, no backtrace.
fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // A policy worker is a small single-threaded process: no runtime, no configuration.
    if matches!(cli.command, Command::PolicyWorker) {
        return match castellan_policy::serve_worker() {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => fail(&anyhow::anyhow!("policy worker: {e}")),
        };
    }
    if let Command::Completion(c) = &cli.command {
        let mut cmd = <Cli as clap::CommandFactory>::command();
        clap_complete::generate(c.shell, &mut cmd, "castellan", &mut std::io::stdout());
        return std::process::ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => return fail(&anyhow::anyhow!("cannot start the async runtime: {e}")),
    };
    if let Some(code) = runtime.block_on(remote(&cli.command)) {
        return code;
    }
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn fail(e: &anyhow::Error) -> std::process::ExitCode {
    eprintln!("error: {e:#}");
    std::process::ExitCode::FAILURE
}

/// The management commands print what they got, or one line and the exit code of the failure.
async fn remote(command: &Command) -> Option<std::process::ExitCode> {
    use castellan::remote::{self, Kind, PolicyCommand};
    let done = match command {
        Command::Client(c) => remote::resource(Kind::Client, c).await,
        Command::Server(c) => remote::resource(Kind::Server, c).await,
        Command::Scope(c) => remote::resource(Kind::Scope, c).await,
        Command::Policy(PolicyCommand::Resource(c)) => remote::resource(Kind::Policy, c).await,
        Command::Policy(PolicyCommand::Test(t)) => remote::test_policy(t).await,
        Command::Token(t) => remote::token(t).await,
        Command::AdminUser(remote::AdminUserCommand::Add(a)) => remote::add_admin_user(a).await,
        _ => return None,
    };
    Some(match done {
        Ok(out) => {
            println!("{out}");
            std::process::ExitCode::SUCCESS
        }
        Err(f) => {
            eprintln!("error: {}", f.message);
            std::process::ExitCode::from(f.code)
        }
    })
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Ledger(LedgerCommand::Verify(v)) = &cli.command {
        let args = ServeArgs {
            store: v.store.clone(),
            ..ServeArgs::default()
        };
        let cfg = Config::load(&args)?;
        let report = castellan::verify_ledger(&cfg, &v.tenant).await?;
        println!("{}", serde_json::to_string_pretty(&report)?);
        if !report.verified {
            anyhow::bail!("the privacy ledger of tenant {} is broken", v.tenant);
        }
        return Ok(());
    }
    if let Command::Audit(AuditCommand::Verify(v)) = &cli.command {
        let args = ServeArgs {
            store: v.store.clone(),
            ..ServeArgs::default()
        };
        let cfg = Config::load(&args)?;
        let report = castellan::verify_audit(&cfg, &v.tenant).await?;
        println!("{}", serde_json::to_string_pretty(&report)?);
        if !report.verified {
            anyhow::bail!("the audit trail of tenant {} is broken", v.tenant);
        }
        return Ok(());
    }
    if let Command::Export(x) = &cli.command {
        let cfg = Config::load(&ServeArgs {
            store: x.store.clone(),
            ..ServeArgs::default()
        })?;
        return castellan::export_configuration(&cfg, x.tenant.as_deref(), x.with_secrets, std::io::stdout()).await;
    }
    if let Command::Import(x) = &cli.command {
        let cfg = Config::load(&ServeArgs {
            store: x.store.clone(),
            ..ServeArgs::default()
        })?;
        let done = castellan::import_configuration(&cfg, &x.mode, x.tenant.as_deref(), &x.file).await?;
        println!("{}", serde_json::to_string_pretty(&done)?);
        return Ok(());
    }
    if let Command::Admin(AdminCommand::ResetSecret(r)) = &cli.command {
        let args = ServeArgs {
            store: r.store.clone(),
            ..ServeArgs::default()
        };
        let cfg = Config::load(&args)?;
        let (creds, file) = castellan::reset_admin_secret(&cfg, &r.tenant, &r.client).await?;
        // Printed on the operator's terminal only; never logged.
        println!(
            "New secret of admin client {id} (tenant {tid}): {secret}
The old secret no longer works.{file}",
            id = creds.client_id,
            tid = creds.tenant_id,
            secret = creds.client_secret,
            file = file
                .map(|p| format!(" Written to {} (mode 0600).", p.display()))
                .unwrap_or_default(),
        );
        return Ok(());
    }
    let (args, serve, load) = match cli.command {
        Command::Ledger(_)
        | Command::Audit(_)
        | Command::Admin(_)
        | Command::Export(_)
        | Command::Import(_)
        | Command::PolicyWorker
        | Command::Client(_)
        | Command::Server(_)
        | Command::Scope(_)
        | Command::Policy(_)
        | Command::Token(_)
        | Command::AdminUser(_)
        | Command::Completion(_) => {
            unreachable!("handled above")
        }
        Command::Serve(args) => (args, true, None),
        Command::Migrate(store) => (
            ServeArgs {
                store,
                ..ServeArgs::default()
            },
            false,
            None,
        ),
        Command::Load(load) => (
            ServeArgs {
                store: load.store.clone(),
                ..ServeArgs::default()
            },
            false,
            Some(load),
        ),
    };
    let cfg = Config::load(&args)?;
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&cfg.log)?)
        .with_target(false)
        // Logs on stderr; stdout carries only what is meant for the operator (the banners).
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    if let Some(load) = load {
        let public_url = cfg
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", cfg.listen));
        let (control, _) = castellan::open_control(&cfg, &public_url).await?;
        return castellan::load::run(control, &load).await;
    }
    if !serve {
        castellan::open_store(&cfg).await?;
        tracing::info!("migrations applied");
        return Ok(());
    }
    let running = castellan::start(cfg.clone()).await?;
    let creds = cfg.data_dir.join(castellan::BOOTSTRAP_FILE);
    let creds = if running.bootstrap.is_some() {
        format!("printed above and written to {}", creds.display())
    } else {
        format!("in {} on the node that first started", creds.display())
    };
    println!(
        "Castellan is listening on {url}\n  API reference: {url}/docs\n  \
         discovery:     {url}/default/default/.well-known/openid-configuration\n  \
         admin console: {url}/console/default/ (add a person first: castellan admin-user add)\n  \
         admin client:  {creds}\n",
        url = running.public_url,
    );
    running.wait_for_signal().await
}
