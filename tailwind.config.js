/** @type {import('tailwindcss').Config} */
module.exports = {
  content: ["./templates/**/*.html", "./*/templates/**/*.html", "./*/forms.py", "./*/widgets.py", "./static/js/*.js"],
  // dark: follows the system, unless the person chose (users.models.Theme):
  // class "light" or "dark" on <html> wins over prefers-color-scheme.
  darkMode: [
    "variant",
    [
      "@media (prefers-color-scheme: dark) { &:not(:where(.light, .light *)) }",
      "&:where(.dark, .dark *)",
    ],
  ],
  theme: { extend: {} },
  plugins: [require("@tailwindcss/forms")],
};
