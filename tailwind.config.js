/** @type {import('tailwindcss').Config} */
module.exports = {
  content: ["./templates/**/*.html", "./*/templates/**/*.html", "./*/forms.py", "./*/widgets.py", "./static/js/*.js"],
  theme: { extend: {} },
  plugins: [require("@tailwindcss/forms")],
};
