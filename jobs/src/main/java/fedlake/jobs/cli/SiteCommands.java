package fedlake.jobs.cli;

import fedlake.core.cli.Args;
import fedlake.core.cli.CommandLine;
import fedlake.core.cli.Option;
import fedlake.core.identity.SiteKeys;
import fedlake.core.store.Store;
import fedlake.core.store.StoreConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Set;
import java.util.TreeSet;

/**
 * The operator's commands for site identities: {@code site add} registers a site's public key (and
 * the site, when the store registers sites), {@code site revoke} revokes one key, {@code site list}
 * prints every site's keys (docs/security.md).
 */
public final class SiteCommands {
  private static final Option SITE = Option.value("site", "ID", Store.SITE_ALPHABET);

  public static final CommandLine ADD =
      CommandLine.of(
              "site add",
              "usage: fedlake site add --store URI --site ID --public-key FILE   register a site's Ed25519 public key (edge keygen makes it)")
          .with(StoreConfig.STORE, SITE)
          .value("public-key", "FILE", "the site's public key (SITE.pub from fedlake edge keygen)")
          .with(StoreConfig.CONF);
  public static final CommandLine REVOKE =
      CommandLine.of(
              "site revoke",
              "usage: fedlake site revoke --store URI --site ID --key KEY_ID     revoke one key: its signatures are rejected from now on")
          .with(StoreConfig.STORE, SITE)
          .value("key", "KEY_ID", "the key to revoke (fedlake site list shows the ids)")
          .with(StoreConfig.CONF);
  public static final CommandLine LIST =
      CommandLine.of(
              "site list",
              "usage: fedlake site list --store URI                              every site's keys")
          .with(StoreConfig.STORE, StoreConfig.CONF);

  public static final String USAGE =
      String.join(
          "\n",
          ADD.usage(),
          REVOKE.usage(),
          LIST.usage(),
          "  the round job checks signatures when the spec requires them (fedlake spec set --require-signatures yes)");

  private SiteCommands() {}

  public static int run(String[] argv, PrintStream out) {
    if (argv.length == 0) {
      throw new IllegalArgumentException("site: add, revoke or list\n" + USAGE);
    }
    String action = argv[0];
    String[] rest = java.util.Arrays.copyOfRange(argv, 1, argv.length);
    try {
      switch (action) {
        case "add" -> {
          Args args = ADD.parse(rest);
          Store store = Store.open(args.required("store"), StoreConfig.of(args).hadoop());
          String site = Store.checkSite(args.required("site"));
          Path file = Path.of(args.required("public-key"));
          String pem;
          try {
            pem = Files.readString(file);
          } catch (IOException e) {
            throw new IllegalArgumentException("Cannot read --public-key " + file + ": " + e);
          }
          String id;
          try {
            id = SiteKeys.add(store, site, pem);
          } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--public-key " + file + ": " + e.getMessage(), e);
          }
          var registered = store.registeredSites();
          if (registered.isPresent() && !registered.get().contains(site)) {
            Set<String> sites = new TreeSet<>(registered.get());
            sites.add(site);
            store.registerSites(sites);
          }
          out.println("site " + site + ": registered key " + id);
          return 0;
        }
        case "revoke" -> {
          Args args = REVOKE.parse(rest);
          Store store = Store.open(args.required("store"), StoreConfig.of(args).hadoop());
          String site = Store.checkSite(args.required("site"));
          Instant now = Instant.now();
          SiteKeys.revoke(store, site, args.required("key"), now);
          out.println("site " + site + ": key " + args.required("key") + " revoked at " + now);
          return 0;
        }
        case "list" -> {
          Args args = LIST.parse(rest);
          Store store = Store.open(args.required("store"), StoreConfig.of(args).hadoop());
          out.printf("%-24s %-16s %s%n", "site", "key", "revoked");
          SiteKeys.load(store)
              .all()
              .forEach(
                  (site, keys) ->
                      keys.values()
                          .forEach(
                              k ->
                                  out.printf(
                                      "%-24s %-16s %s%n",
                                      site, k.keyId(), k.revoked() == null ? "-" : k.revoked())));
          return 0;
        }
        default ->
            throw new IllegalArgumentException(
                "site: unknown action '" + action + "' (add, revoke, list)\n" + USAGE);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("site " + action + ": " + e.getMessage(), e);
    }
  }
}
