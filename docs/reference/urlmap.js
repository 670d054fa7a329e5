// Where gi-docgen links the types of the libraries the SDK builds on.
baseURLs = [
  ["GLib", "https://docs.gtk.org/glib/"],
  ["GObject", "https://docs.gtk.org/gobject/"],
  ["Gio", "https://docs.gtk.org/gio/"],
  ["Json", "https://gnome.pages.gitlab.gnome.org/json-glib/"],
];
